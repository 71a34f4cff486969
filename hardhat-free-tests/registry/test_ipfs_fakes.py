"""In-process HTTP doubles of a Kubo RPC API and of an IPFS Pinning Service, plus tests of their shapes.

They bind 127.0.0.1 on a free port, in a thread, and speak the real wire formats, so the adapters under
test run their real HTTP clients (ipfshttpclient, httpx) end to end. The Kubo double computes CIDs
with Legato's UnixFS code from the parameters it is sent and keeps blocks in memory, independent of
the LocalBlockstore under test. It refuses parameter combinations it cannot emulate rather than
answering with a made-up CID. Response shapes follow Kubo (errors: HTTP 500
``{"Message", "Code": 0, "Type": "error"}``; NDJSON from ``add``) and the PSA v1 OpenAPI spec.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from registry.ipfs.cid import DAG_PB, Cid, parse_cid
from registry.ipfs.unixfs import (
    UNIXFS_FILE,
    PBNode,
    UnixFSData,
    build_dag,
    encode_pbnode,
    encode_unixfs,
    read_file,
)

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # Go's strconv.ParseBool, as Kubo parses flags


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> whose handler calls ``self.handle``."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                owner._dispatch(self, "POST")

            def do_GET(self) -> None:
                owner._dispatch(self, "GET")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.delay = 0.0
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _dispatch(self, req: BaseHTTPRequestHandler, method: str) -> None:
        body = _read_body(req)
        if self.delay:
            time.sleep(self.delay)
        url = urlsplit(req.path)
        status, headers, payload = self.handle(method, url.path, parse_qs(url.query), dict(req.headers), body)
        try:
            req.send_response(status)
            for key, value in {**headers, "Content-Length": str(len(payload))}.items():
                req.send_header(key, value)
            req.end_headers()
            req.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout tests): nothing left to answer

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


def _read_body(req: BaseHTTPRequestHandler) -> bytes:
    if req.headers.get("Transfer-Encoding", "").lower() == "chunked":  # ipfshttpclient streams uploads
        out = bytearray()
        while True:
            size = int(req.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                req.rfile.readline()
                return bytes(out)
            out += req.rfile.read(size)
            req.rfile.readline()
    return req.rfile.read(int(req.headers.get("Content-Length") or 0))


def _json(status: int, obj: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()


def _first_multipart_file(content_type: str, body: bytes) -> tuple[str, bytes]:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    part = body.split(b"--" + boundary)[1]
    head, _, content = part.partition(b"\r\n\r\n")
    name = ""
    for line in head.decode().split("\r\n"):
        if line.lower().startswith("content-disposition") and 'filename="' in line:
            name = line.split('filename="', 1)[1].split('"', 1)[0]
    return name, content.removesuffix(b"\r\n")


class FakeKubo(_Server):
    """``/api/v0/{version,add,cat,pin/add,pin/ls,block/stat}`` as Kubo answers them."""

    def __init__(self, *, version: str = "0.29.0") -> None:
        self.version = version
        self.blocks: dict[str, bytes] = {}
        self.pins: set[str] = set()
        self.calls: list[tuple[str, dict[str, list[str]]]] = []
        self.answer_cid: str | None = None  # a misbehaving node: answer this CID from add
        super().__init__()

    @property
    def multiaddr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.port}/http"

    def _error(self, message: str) -> tuple[int, dict[str, str], bytes]:
        return _json(500, {"Message": message, "Code": 0, "Type": "error"})

    def handle(self, method, path, query, headers, body):
        if not path.startswith("/api/v0/"):
            return 404, {"Content-Type": "text/plain"}, b"404 page not found"
        if method != "POST":  # Kubo's RPC refuses GET since 0.5
            return 405, {"Content-Type": "text/plain"}, b"405 - Method Not Allowed"
        command = path.removeprefix("/api/v0/")
        self.calls.append((command, query))
        arg = (query.get("arg") or [""])[0]
        if command == "version":
            return _json(200, {"Version": self.version, "Commit": "", "Repo": "15", "System": "amd64/linux",
                               "Golang": "go1.22.2"})
        if command == "add":
            return self._add(query, headers, body)
        if command in ("cat", "pin/add", "block/stat") and arg not in self.blocks:
            return self._error(f"block was not found locally (offline): ipld: could not find {arg}")
        if command == "cat":
            data = read_file(parse_cid(arg), lambda cid: self.blocks[str(cid)])
            return 200, {"Content-Type": "text/plain", "X-Stream-Output": "1"}, data
        if command == "pin/add":
            self.pins.add(arg)
            return _json(200, {"Pins": [arg]})
        if command == "block/stat":
            return _json(200, {"Key": arg, "Size": len(self.blocks[arg])})
        if command == "pin/ls":
            if arg and arg not in self.pins:
                return self._error(f"path '/ipfs/{arg}' is not pinned")
            keys = [arg] if arg else sorted(self.pins)
            return _json(200, {"Keys": {k: {"Type": "recursive"} for k in keys}})
        return 404, {"Content-Type": "text/plain"}, b"404 page not found"

    def _add(self, query, headers, body):
        def opt(name: str, default: str) -> str:
            return (query.get(name) or [default])[0]

        cid_version = int(opt("cid-version", "0"))
        raw_leaves = opt("raw-leaves", "true" if cid_version == 1 else "false") in _TRUE
        chunker, hash_name = opt("chunker", "size-262144"), opt("hash", "sha2-256")
        if cid_version != 1 or hash_name != "sha2-256" or not chunker.startswith("size-"):
            return self._error(f"test double: cannot emulate cid-version={cid_version} hash={hash_name} "
                               f"chunker={chunker}")
        chunk_size = int(chunker.removeprefix("size-"))
        name, data = _first_multipart_file(headers.get("Content-Type", ""), body)
        if raw_leaves:
            dag = build_dag(data, chunk_size=chunk_size)
            root, blocks = dag.root, dag.blocks
        elif len(data) <= chunk_size:  # one UnixFS node holding the data inline, as Kubo makes it
            node = encode_pbnode(PBNode((), encode_unixfs(UnixFSData(UNIXFS_FILE, data=data,
                                                                      filesize=len(data)))))
            root, blocks = str(Cid.for_block(DAG_PB, node)), {str(Cid.for_block(DAG_PB, node)): node}
        else:
            return self._error("test double: cannot emulate multi-block files without raw leaves")
        self.blocks.update(blocks)
        if opt("pin", "true") in _TRUE:
            self.pins.add(root)
        size = str(sum(map(len, blocks.values())))
        line = json.dumps({"Name": name or root, "Hash": self.answer_cid or root, "Size": size}).encode()
        return 200, {"Content-Type": "application/json", "X-Chunked-Output": "1"}, line + b"\n"


class FakePinningService(_Server):
    """PSA v1 ``POST /pins`` and ``GET /pins`` with bearer auth; pins go queued → pinned on next read."""

    def __init__(self, *, token: str = "secret-token") -> None:
        self.token = token
        self.pins: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.force_status: int | None = None  # answer every request with this HTTP status
        super().__init__()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/psa"

    def _failure(self, status: int, reason: str, details: str) -> tuple[int, dict[str, str], bytes]:
        return _json(status, {"error": {"reason": reason, "details": details}})

    def handle(self, method, path, query, headers, body):
        payload = json.loads(body) if body else None
        self.calls.append((method, path, query, payload))
        if self.force_status == 429:
            out = self._failure(429, "RATE_LIMITED", "too many requests")
            out[1]["Retry-After"] = "30"
            return out
        if self.force_status:
            return self._failure(self.force_status, "INTERNAL_SERVER_ERROR", "the service is unwell")
        if headers.get("Authorization") != f"Bearer {self.token}":
            return self._failure(401, "UNAUTHORIZED", "Access token is missing or invalid")
        if path == "/psa/pins" and method == "POST":
            request_id = uuid.uuid4().hex
            self.pins[request_id] = {
                "requestid": request_id, "status": "queued",
                "created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "pin": payload, "delegates": ["/ip4/203.0.113.1/tcp/4001/p2p/12D3KooWFakeDelegate"],
            }
            return _json(202, self.pins[request_id])
        if path == "/psa/pins" and method == "GET":
            cids = set((query.get("cid") or [""])[0].split(",")) - {""}
            statuses = set((query.get("status") or ["pinned"])[0].split(","))
            for pin in self.pins.values():  # the service fetched the content since it was queued
                pin["status"] = "pinned" if pin["status"] == "queued" else pin["status"]
            results = [p for p in self.pins.values()
                       if p["status"] in statuses and (not cids or p["pin"]["cid"] in cids)]
            limit = int((query.get("limit") or ["10"])[0])
            return _json(200, {"count": len(results), "results": results[:limit]})
        return self._failure(404, "NOT_FOUND", "no such route")


@pytest.fixture
def fake_kubo() -> Iterator[FakeKubo]:
    server = FakeKubo()
    yield server
    server.stop()


@pytest.fixture
def fake_psa() -> Iterator[FakePinningService]:
    server = FakePinningService()
    yield server
    server.stop()


# --- the doubles themselves answer like the real systems -------------------------------------------
HELLO_NL_RAW = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"  # Kubo t0114, raw leaves
HELLO_NL_INLINE = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4"  # Kubo t0114, CIDv0to1


def test_fake_kubo_add_answers_ndjson_with_string_size_and_refuses_get(fake_kubo):
    files = {"file": ("hello.txt", b"hello\n", "application/octet-stream")}
    url = f"http://127.0.0.1:{fake_kubo.port}/api/v0/add"
    answer = httpx.post(url, params={"cid-version": "1"}, files=files)
    assert answer.json() == {"Name": "hello.txt", "Hash": HELLO_NL_RAW, "Size": "6"}
    assert httpx.get(url).status_code == 405


def test_fake_kubo_without_raw_leaves_gives_kubos_inline_node_cid(fake_kubo):
    files = {"file": ("", b"hello\n", "application/octet-stream")}
    url = f"http://127.0.0.1:{fake_kubo.port}/api/v0/add"
    answer = httpx.post(url, params={"cid-version": "1", "raw-leaves": "false"}, files=files).json()
    assert answer["Hash"] == HELLO_NL_INLINE


def test_fake_kubo_refuses_what_it_cannot_emulate_instead_of_inventing_a_cid(fake_kubo):
    files = {"file": ("", b"hello\n", "application/octet-stream")}
    answer = httpx.post(f"http://127.0.0.1:{fake_kubo.port}/api/v0/add", files=files)  # CIDv0 default
    assert answer.status_code == 500 and "cannot emulate" in answer.json()["Message"]


def test_fake_kubo_errors_have_kubos_error_shape(fake_kubo):
    answer = httpx.post(f"http://127.0.0.1:{fake_kubo.port}/api/v0/cat", params={"arg": HELLO_NL_RAW})
    assert answer.status_code == 500
    message = f"block was not found locally (offline): ipld: could not find {HELLO_NL_RAW}"
    assert answer.json() == {"Message": message, "Code": 0, "Type": "error"}


def test_fake_psa_lists_only_pinned_by_default_and_needs_the_bearer_token(fake_psa):
    auth = {"Authorization": f"Bearer {fake_psa.token}"}
    assert httpx.get(f"{fake_psa.endpoint}/pins").status_code == 401
    created = httpx.post(f"{fake_psa.endpoint}/pins", json={"cid": HELLO_NL_RAW}, headers=auth)
    assert created.status_code == 202 and created.json()["status"] == "queued"
    assert set(created.json()) == {"requestid", "status", "created", "pin", "delegates"}
    listing = httpx.get(f"{fake_psa.endpoint}/pins", params={"cid": HELLO_NL_RAW}, headers=auth).json()
    assert listing["count"] == 1 and listing["results"][0]["status"] == "pinned"
