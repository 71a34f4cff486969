"""Test servers on loopback: the production adapters talk to them over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer


@contextmanager
def serving(httpd: ThreadingHTTPServer, *, poll_interval: float = 0.5) -> Iterator[None]:
    """Serve ``httpd`` from a daemon thread for the ``with`` block, then stop it and free its port."""
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True).start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
