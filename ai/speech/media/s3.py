"""Media in any S3-compatible store (AWS S3, MinIO, Ceph, R2), over plain HTTP with SigV4.

Path-style URLs (``{endpoint}/{bucket}/{key}``), which every S3-compatible server accepts, and the
signing code Polly uses (``ai.speech.synth.sigv4``) rather than boto3. Uploads stream the file after
hashing it (S3 wants the payload's SHA-256 in ``x-amz-content-sha256``); downloads stream with a
``Range`` header, so neither holds a whole file in memory. Unreachable, 5xx, 403 → ``MediaUnavailable``.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ai.errors import MediaUnavailable, NotFound
from ai.speech.media.protocol import CHUNK, check_key
from ai.speech.synth.sigv4 import sign

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class S3MediaStore:
    name = "s3"

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        timeout: float = 60.0,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._host = urlsplit(self._endpoint).netloc
        self._bucket, self._region = bucket, region
        self._key_id, self._secret = access_key_id, secret_access_key
        self._client = httpx.Client(timeout=timeout)

    def _path(self, key: str | None) -> str:
        return f"/{self._bucket}" + (f"/{quote(check_key(key), safe='/')}" if key is not None else "")

    def _headers(
        self, method: str, path: str, payload_sha256: str, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        signed = {"x-amz-content-sha256": payload_sha256}
        signed.update(
            sign(
                method=method,
                host=self._host,
                path=path,
                query={},
                headers=signed,
                body=b"",
                access_key=self._key_id,
                secret_key=self._secret,
                region=self._region,
                service="s3",
                now=datetime.now(UTC),
                payload_sha256=payload_sha256,
            )
        )
        return {**signed, **(extra or {})}

    def _check(self, response: httpx.Response, key: str | None) -> httpx.Response:
        if response.status_code == 404:
            raise NotFound("No such media file.", details={"key": (key or "")[:80]})
        if response.status_code >= 300:
            raise MediaUnavailable(
                "The media store is not available.", details={"status": response.status_code}
            )
        return response

    def _send(
        self,
        method: str,
        key: str | None,
        *,
        payload_sha256: str = EMPTY_SHA256,
        content: Any = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        path = self._path(key)
        try:
            response = self._client.request(
                method,
                self._endpoint + path,
                content=content,
                headers=self._headers(method, path, payload_sha256, extra),
            )
        except httpx.HTTPError as e:
            raise MediaUnavailable("The media store cannot be reached.") from e
        return self._check(response, key)

    def put_file(self, key: str, source: Path, *, content_type: str) -> None:
        h = hashlib.sha256()
        with source.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)

        def body() -> Iterator[bytes]:
            with source.open("rb") as fh:
                yield from iter(lambda: fh.read(CHUNK), b"")

        self._send(
            "PUT",
            key,
            payload_sha256=h.hexdigest(),
            content=body(),
            extra={"content-type": content_type, "content-length": str(source.stat().st_size)},
        )

    def size(self, key: str) -> int:
        return int(self._send("HEAD", key).headers.get("content-length", "0"))

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        wanted = f"bytes={start}-{'' if end is None else end - 1}"
        request = self._client.build_request(
            "GET", self._endpoint + path, headers=self._headers("GET", path, EMPTY_SHA256, {"range": wanted})
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as e:
            raise MediaUnavailable("The media store cannot be reached.") from e
        if response.status_code >= 300:
            response.close()
            self._check(response, key)

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.iter_bytes(CHUNK)
            except httpx.HTTPError as e:
                raise MediaUnavailable("The media store stopped sending.") from e
            finally:
                response.close()

        return chunks()

    def delete(self, key: str) -> None:
        with contextlib.suppress(NotFound):
            self._send("DELETE", key)

    def health(self) -> dict[str, Any]:
        self._send("HEAD", None)
        return {"store": self.name, "bucket": self._bucket}

    def close(self) -> None:
        self._client.close()
