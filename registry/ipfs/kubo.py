"""A Kubo (go-ipfs) node as the pinner, over its RPC API with ipfshttpclient 0.7.0.

Two quirks of that client shape this adapter:

* ``ipfshttpclient.connect()`` checks the daemon version against ``VERSION_MAXIMUM = "0.8.0"`` and so
  rejects every Kubo released since 2021. The RPC calls used here (``add``, ``pin/add``, ``pin/ls``,
  ``cat``, ``version``) have been stable since then, so the client is constructed directly, which
  skips the check (the class docstring allows exactly this).
* ``Client.add`` sends ``raw-leaves=false`` unless told otherwise and no ``cid-version`` at all, which
  would give a CIDv0 with dag-pb leaves. Every add therefore names all the import parameters that
  determine the CID — ``cid-version=1``, ``raw-leaves=true``, ``chunker=size-262144``,
  ``hash=sha2-256`` — so a node whose ``Import.*`` config differs still answers with Legato's CID.
  The answer is checked anyway: a node that returns another CID (e.g. a different
  ``Import.UnixFSFileMaxLinks``) has not pinned what the certificate names, and that is an error.

Reads pass ``offline=true``: a pinner answers for what it holds instead of searching the network
until the timeout.
"""

from __future__ import annotations

import io
import ipaddress
import re
from typing import Any, NoReturn
from urllib.parse import urlsplit

import ipfshttpclient
import ipfshttpclient.client
import ipfshttpclient.exceptions as ipfs_exc

from registry.errors import ConfigurationError, NotFound, PinningUnavailable
from registry.ipfs.cid import normalize_cid
from registry.ipfs.unixfs import CHUNK_SIZE, cid_for_bytes

# Kubo's error texts (HTTP 500, {"Message": …, "Type": "error"}) for "this node does not hold it".
_NOT_HELD = re.compile(r"not found locally|could not find|is not pinned|no link named", re.I)
_UPLOAD_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def to_multiaddr(api: str) -> tuple[str, str, str]:
    """``(multiaddr, base path, display URL)`` for ``LEGATO_IPFS_API``: a multiaddr or an http(s) URL.

    ``/ip4/127.0.0.1/tcp/5001/http``, ``http://127.0.0.1:5001`` and ``http://kubo:5001/api/v0`` all
    work; the base path defaults to Kubo's ``api/v0``.
    """
    api = api.strip()
    if api.startswith("/"):
        parts = api.strip("/").split("/")
        scheme = "https" if parts[-1] == "https" else "http"
        host_port = f"{parts[1]}:{parts[3]}" if len(parts) >= 4 else api
        return api, "api/v0", f"{scheme}://{host_port}"
    url = urlsplit(api)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigurationError(f"LEGATO_IPFS_API must be a multiaddr or an http(s) URL, not {api!r}")
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError as e:
        raise ConfigurationError(f"bad port in LEGATO_IPFS_API {api!r}") from e
    try:
        family = "ip6" if ipaddress.ip_address(url.hostname).version == 6 else "ip4"
    except ValueError:
        family = "dns"
    base = url.path.strip("/") or "api/v0"
    display = f"{url.scheme}://{url.netloc}"
    return f"/{family}/{url.hostname}/tcp/{port}/{url.scheme}", base, display


class KuboPinner:
    """Pinner backed by a Kubo node's RPC API (``LEGATO_IPFS_API``)."""

    def __init__(self, *, api: str, timeout: float = 30.0) -> None:
        addr, base, display = to_multiaddr(api)
        self.api = display
        self.name = f"kubo {display}"
        self.timeout = timeout
        try:
            # Direct construction: connect() would refuse Kubo >= 0.8 (see the module docstring).
            self._client = ipfshttpclient.client.Client(addr, base, timeout=timeout)
        except ipfs_exc.AddressError as e:
            raise ConfigurationError(f"LEGATO_IPFS_API {api!r} is not a usable address: {e}") from e

    # --- the Pinner port ---------------------------------------------------------------------
    def add(self, data: bytes, *, name: str | None = None) -> str:
        expected = cid_for_bytes(data)
        upload = io.BytesIO(data)
        # A relative name only labels the multipart part (Kubo echoes it); an absolute one would
        # be sent as an Abspath header.
        upload.name = _UPLOAD_NAME_UNSAFE.sub("_", name or "legato")[:100] or "legato"
        try:
            answer = self._client.add(
                upload, cid_version=1, raw_leaves=True, chunker=f"size-{CHUNK_SIZE}", pin=True,
                opts={"hash": "sha2-256"},
            )
            got = str(answer["Hash"])
            if got != expected:
                raise PinningUnavailable(
                    f"{self.name} stored the bytes as {got}, but their CID (ipfs add --cid-version=1) is "
                    f"{expected}; check the node's Import.* settings (chunker, max links, hash).",
                    details={"expected": expected, "got": got, "pinner": self.name},
                )
            self._client.pin.add(got)
        except ipfs_exc.Error as e:
            self._fail("add", e)
        return expected

    def get(self, cid: str) -> bytes:
        key = normalize_cid(cid)
        try:
            return bytes(self._client.cat(key, offline=True))
        except ipfs_exc.ErrorResponse as e:
            if _NOT_HELD.search(str(e)):
                raise NotFound(f"{key} is not held by {self.name}", details={"cid": key}) from e
            self._fail("cat", e)
        except ipfs_exc.Error as e:
            self._fail("cat", e)

    def has(self, cid: str) -> bool:
        key = normalize_cid(cid)
        try:
            answer = self._client.pin.ls(key, type="recursive", offline=True)
        except ipfs_exc.ErrorResponse as e:
            if _NOT_HELD.search(str(e)):
                return False
            self._fail("pin/ls", e)
        except ipfs_exc.Error as e:
            self._fail("pin/ls", e)
        return key in (answer.get("Keys") or {})

    def health(self) -> dict[str, Any]:
        try:
            version = self._client.version()
        except ipfs_exc.Error as e:
            self._fail("version", e)
        return {"pinner": self.name, "status": "ok", "version": version.get("Version")}

    def close(self) -> None:
        self._client.close()

    # --- internals ---------------------------------------------------------------------------
    def _fail(self, call: str, e: ipfs_exc.Error) -> NoReturn:
        kind = type(e).__name__
        if isinstance(e, ipfs_exc.TimeoutError):
            message = f"{self.name} did not answer {call} within {self.timeout:g} s"
        elif isinstance(e, ipfs_exc.ConnectionError):
            message = f"{self.name} cannot be reached ({call}): is the daemon running?"
        else:
            message = f"{self.name} failed {call}: {e}"
        raise PinningUnavailable(message, details={"pinner": self.name, "call": call, "error": kind}) from e
