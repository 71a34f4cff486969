"""The production timestamp adapter: any RFC 3161 TSA over HTTP (FreeTSA, DigiCert, a company TSA).

Every answer is treated as hostile until it verifies: the request carries a fresh 64-bit nonce, and the
token must echo it, carry our exact SHA-256 imprint and chain to the roots pinned at construction. An
adapter without pinned roots is refused outright, because the alternative (trusting whatever
certificate the token carries, as rfc3161ng does with an empty certificate) lets anyone mint tokens.

Failures split by what the caller should do: ``TimestampUnavailable`` (network, HTTP error, timeout,
"try later" statuses) means retry later and keep the registration pending; ``InvalidTimestamp``
means the TSA answered with something we must not store.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509

from registry.errors import ConfigurationError, InvalidTimestamp, TimestampUnavailable
from registry.timestamp import asn1
from registry.timestamp.cert_path import load_roots
from registry.timestamp.protocol import TimestampToken
from registry.timestamp.verify import verify_response

MAX_RESPONSE_BYTES = 1 << 20
"""A TimeStampResp with a full chain is a few KB; anything near a megabyte is not one."""

HEALTH_DIGEST = hashlib.sha256(b"legato TSA health check").digest()


class RemoteTSA:
    """An RFC 3161 TSA at ``url`` whose tokens must chain to one of ``roots_pem``."""

    def __init__(
        self, url: str, *, roots_pem: list[bytes], timeout: float = 10.0, name: str | None = None
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"TSA URL {url!r} is not an http(s) URL")
        if not roots_pem:
            raise ConfigurationError(
                "a remote TSA needs a pinned root certificate (LEGATO_TSA_CERT); without one any "
                "certificate a token carries would be trusted"
            )
        try:
            load_roots(roots_pem)
        except InvalidTimestamp as e:
            raise ConfigurationError(f"the pinned TSA root is unusable: {e.message}") from e
        self.url = url
        self.name = name or url
        self.timeout = timeout
        self._roots_pem = list(roots_pem)
        # One client per adapter: connections to the TSA are reused and TLS setup is paid once.
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
        )

    def close(self) -> None:
        self._client.close()

    def timestamp(self, digest: bytes) -> TimestampToken:
        if len(digest) != 32:
            raise ValueError(f"expected a 32-byte SHA-256 digest, got {len(digest)} bytes")
        nonce = asn1.new_nonce()
        response_der = self._post(asn1.build_request(digest, nonce=nonce, cert_req=True))
        self._raise_if_transient(response_der)
        token_der, verified = verify_response(
            response_der, digest=digest, roots_pem=self._roots_pem, nonce=nonce
        )
        return TimestampToken(
            token_der=token_der,
            gen_time=verified.gen_time,
            tsa_name=self.name,
            tsa_url=self.url,
            chain_pem=verified.chain_pem,
        )

    def trust_roots_pem(self) -> list[bytes]:
        return list(self._roots_pem)

    def health(self) -> dict[str, Any]:
        """Asks the TSA for a real token (over a fixed digest): reachability alone proves little."""
        started = time.monotonic()
        try:
            token = self.timestamp(HEALTH_DIGEST)
        except InvalidTimestamp as e:
            raise TimestampUnavailable(
                f"{self.url} answers with tokens that do not verify: {e.message}", details={"check": e.check}
            ) from e
        return {
            "kind": "remote",
            "url": self.url,
            "gen_time": token.gen_time.isoformat(),
            "signer": _subject(token.chain_pem[0]),
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        }

    def _post(self, request_der: bytes) -> bytes:
        try:
            with self._client.stream("POST", self.url, content=request_der) as response:
                if response.status_code != 200:
                    raise TimestampUnavailable(
                        f"{self.url} answered HTTP {response.status_code}",
                        details={"http_status": response.status_code},
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise TimestampUnavailable(f"{self.url} sent more than {MAX_RESPONSE_BYTES} bytes")
                return bytes(body)
        except httpx.TimeoutException as e:
            raise TimestampUnavailable(f"{self.url} did not answer within {self.timeout} s") from e
        except httpx.HTTPError as e:
            raise TimestampUnavailable(f"{self.url} is unreachable: {e}") from e

    def _raise_if_transient(self, response_der: bytes) -> None:
        """``waiting`` and rejections for lack of time or a system failure are the TSA's bad moment."""
        try:
            resp = asn1.parse_response(response_der)
        except asn1.MalformedMessage as e:
            raise InvalidTimestamp(
                f"{self.url} did not answer with a TimeStampResp: {e}", check="format"
            ) from e
        if resp.status == "waiting" or (
            resp.status == "rejection" and resp.fail_info & asn1.TRANSIENT_FAILURES
        ):
            raise TimestampUnavailable(
                f"{self.url} answered {resp.status} ({', '.join(sorted(resp.fail_info)) or 'no failInfo'})",
                details={"status": resp.status, "fail_info": sorted(resp.fail_info)},
            )


def _subject(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()
