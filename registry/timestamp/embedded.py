"""The embedded Time-Stamp Authority: Legato's no-setup default, a real RFC 3161 TSA in-process.

It is not a stub: its tokens are standard TimeStampTokens that ``openssl ts -verify`` accepts against
the installation's own root (``ca_pem()``), and ``handle_request`` answers real TimeStampReq messages,
so the same instance can be served over HTTP and exercised by ``RemoteTSA``. What it cannot give is
third-party assurance: the operator holds the root key, which is why production points
``LEGATO_TSA_URL`` at an independent TSA.

Serial numbers are ``max(previous + 1, microseconds since the epoch)``, persisted in ``tsa/serial``
under an exclusive lock: unique and increasing across threads and processes, and still unique if the
counter file is lost while the clock keeps moving forward.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes

from registry.errors import ConfigurationError, TimestampUnavailable
from registry.timestamp import asn1
from registry.timestamp.issuing import SignOptions, TSTFields, issue_token
from registry.timestamp.pki import TsaCredentials, exclusive_lock, load_or_create_credentials, write_atomic
from registry.timestamp.protocol import TimestampToken


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EmbeddedTSA:
    """An RFC 3161 TSA whose root CA and signing key live in ``data_dir/tsa/``, created on first use."""

    def __init__(
        self,
        data_dir: Path,
        *,
        key_type: str = "ec-p256",
        name: str = "embedded",
        policy_oid: str = asn1.LEGATO_EMBEDDED_POLICY_OID,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.name = name
        self.directory = Path(data_dir) / "tsa"
        self.policy_oid = policy_oid
        self._key_type = key_type
        self._clock = clock
        self._creds: TsaCredentials | None = None
        self._lock = threading.Lock()

    # -- the Timestamper port -------------------------------------------------------------------

    def timestamp(self, digest: bytes) -> TimestampToken:
        """Raises ``TimestampUnavailable`` when the key files or the disk fail, so the registration
        waits as ``pending_timestamp`` until an operator fixes the data dir."""
        if len(digest) != 32:
            raise ValueError(f"expected a 32-byte SHA-256 digest, got {len(digest)} bytes")
        try:
            token_der, gen_time = self._issue("sha256", digest, nonce=None, cert_req=True)
        except (ConfigurationError, OSError) as e:
            raise TimestampUnavailable(f"the embedded TSA in {self.directory} cannot sign: {e}") from e
        creds = self.credentials()
        return TimestampToken(
            token_der=token_der,
            gen_time=gen_time,
            tsa_name=self.name,
            tsa_url=None,
            chain_pem=[creds.cert_pem.decode(), creds.root_pem.decode()],
        )

    def trust_roots_pem(self) -> list[bytes]:
        return [self.ca_pem()]

    def health(self) -> dict[str, Any]:
        try:
            creds = self.credentials()
        except (ConfigurationError, OSError) as e:
            raise TimestampUnavailable(f"the embedded TSA in {self.directory} is unusable: {e}") from e
        return {
            "kind": "embedded",
            "signer": creds.cert.subject.rfc4514_string(),
            "key_type": creds.key_type,
            "root_sha256": creds.root.fingerprint(hashes.SHA256()).hex(),
            "cert_not_after": creds.cert.not_valid_after_utc.isoformat(),
            "policy": self.policy_oid,
        }

    # -- the embedded TSA's own surface ---------------------------------------------------------

    def ca_pem(self) -> bytes:
        """The root certificate to pin (what ``legato tsa-ca`` prints and ``-CAfile`` takes)."""
        return self.credentials().root_pem

    def tsa_cert_pem(self) -> bytes:
        """The timestamping certificate (what ``openssl ts -verify -untrusted`` takes)."""
        return self.credentials().cert_pem

    def credentials(self) -> TsaCredentials:
        with self._lock:
            if self._creds is None:
                self._creds = load_or_create_credentials(
                    self.directory, key_type=self._key_type, now=self._clock()
                )
            return self._creds

    def handle_request(self, request_der: bytes) -> bytes:
        """Answer one DER TimeStampReq with a DER TimeStampResp, as an HTTP TSA endpoint would.

        Bad requests get a ``rejection`` naming the failInfo bit (badAlg, badDataFormat, unacceptedPolicy,
        unacceptedExtension; systemFailure when signing fails) rather than an exception, so a client
        sees the reason.
        """
        try:
            req = asn1.parse_request(request_der)
        except asn1.MalformedMessage as e:
            return asn1.rejection_response("bad_data_format", str(e))
        if req.hash_algorithm not in asn1.DIGEST_SIZES:
            return asn1.rejection_response(
                "bad_alg",
                f"hash algorithm {req.hash_algorithm} is not accepted; use SHA-256, SHA-384 or SHA-512",
            )
        expected_size = asn1.DIGEST_SIZES[req.hash_algorithm]
        if len(req.digest) != expected_size:
            return asn1.rejection_response(
                "bad_data_format",
                f"a {req.hash_algorithm} imprint is {expected_size} bytes, got {len(req.digest)}",
            )
        if req.policy is not None and req.policy != self.policy_oid:
            return asn1.rejection_response(
                "unaccepted_policy", f"this TSA only issues under policy {self.policy_oid}"
            )
        if req.has_extensions:
            return asn1.rejection_response("unaccepted_extensions", "this TSA accepts no request extensions")
        try:
            token_der, _ = self._issue(req.hash_algorithm, req.digest, nonce=req.nonce, cert_req=req.cert_req)
        except (ConfigurationError, OSError) as e:
            return asn1.rejection_response("system_failure", f"the TSA cannot sign now: {e}")
        return asn1.granted_response(token_der)

    # -- issuing --------------------------------------------------------------------------------

    def _issue(
        self, hash_algorithm: str, digest: bytes, *, nonce: int | None, cert_req: bool
    ) -> tuple[bytes, datetime]:
        creds = self.credentials()
        now = self._clock().astimezone(UTC)
        gen_time = now.replace(microsecond=0)
        serial = self._next_serial(now)
        fields = TSTFields(
            policy=self.policy_oid,
            hash_algorithm=hash_algorithm,
            digest=digest,
            serial=serial,
            gen_time=gen_time,
            nonce=nonce,
            accuracy_seconds=1,
            tsa_name=creds.cert.subject,
        )
        token = issue_token(
            fields,
            key=creds.key,
            cert=creds.cert,
            options=SignOptions(include_certs=cert_req, signing_time=gen_time),
        )
        return token, gen_time

    def _next_serial(self, now: datetime) -> int:
        path = self.directory / "serial"
        with self._lock, exclusive_lock(self.directory / ".serial.lock"):
            try:
                previous = int(path.read_text().strip() or 0)
            except FileNotFoundError:
                previous = 0
            except ValueError as e:
                raise ConfigurationError(f"{path} does not hold a serial number") from e
            serial = max(previous + 1, int(now.timestamp() * 1_000_000))
            write_atomic(path, f"{serial}\n".encode(), mode=0o600)
        return serial
