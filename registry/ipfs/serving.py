"""How pinned bytes are served over HTTP (``GET /ipfs/{cid}``): their content type and ETag.

Kept beside the port rather than in the gateway because every adapter's bytes are served alike and the
rules (never guess HTML; a CID's bytes never change) belong to the content-addressed store.
"""

from __future__ import annotations

import json

JSON_TYPE = "application/json"
BINARY_TYPE = "application/octet-stream"


def content_type_for(data: bytes) -> str:
    """``application/json`` for bytes that are a UTF-8 JSON object or array, else octet-stream.

    Certificates and batch manifests are JSON objects; anything else pinned is served as opaque bytes
    (a gateway cannot know more, and guessing ``text/html`` from content would be an XSS vector).
    """
    if data.lstrip(b" \t\r\n")[:1] not in (b"{", b"["):
        return BINARY_TYPE
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return BINARY_TYPE
    return JSON_TYPE if isinstance(parsed, dict | list) else BINARY_TYPE


def etag_for(cid: str) -> str:
    """The strong ETag for content at ``cid``: the bytes behind a CID never change."""
    return f'"{cid}"'
