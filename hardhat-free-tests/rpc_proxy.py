"""A real JSON-RPC endpoint over HTTP in front of an in-process chain, so tests can exercise the
``--rpc URL`` path (``Web3Chain.from_rpc``) the way a verifier reaches a node, without any external one.

Requests go through the eth-tester provider's own formatters (hex in, hex out), exactly what a node
speaks on the wire."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from web3 import Web3
from web3.datastructures import NamedElementOnion


@contextmanager
def serve_rpc(w3: Web3) -> Iterator[str]:
    call = w3.provider.request_func(w3, NamedElementOnion([]))  # type: ignore[attr-defined]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            resp = call(req["method"], req.get("params", []))
            out = {"jsonrpc": "2.0", "id": req.get("id")}
            out.update({k: v for k, v in resp.items() if k in ("result", "error")})
            body = Web3.to_json(out).encode()  # type: ignore[arg-type]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
