"""Helpers for the timestamp tests: a real HTTP TSA endpoint on 127.0.0.1, a rogue PKI, a fixed vector.

``serve`` runs a stdlib ``ThreadingHTTPServer`` in a thread and answers every POST with whatever the
given function returns, so a test can serve ``EmbeddedTSA.handle_request`` unchanged or a deliberately
misbehaving TSA. The vector constants are a fixed root, TSA certificate and RSA key (RSA PKCS#1 v1.5
signatures are deterministic, so a fixed key and time give byte-identical tokens).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from registry.timestamp import pki
from registry.timestamp.issuing import SigningKey

Responder = Callable[[bytes], "bytes | tuple[int, bytes]"]


@dataclass
class Served:
    url: str
    requests: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)


@contextmanager
def serve(respond: Responder, *, delay: float = 0.0) -> Iterator[Served]:
    """Serve ``respond(request_body)`` at ``http://127.0.0.1:<port>/tsr``; records what clients sent."""
    served = Served(url="")
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            served.requests.append(body)
            served.content_types.append(self.headers.get("Content-Type", ""))
            if delay:
                release.wait(delay)
            answer = respond(body)
            status, payload = answer if isinstance(answer, tuple) else (200, answer)
            self.send_response(status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/tsr"
    try:
        yield served
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Pki:
    """A root, and a TSA certificate and key it issued; ``root_pem`` is what a verifier pins."""

    root: x509.Certificate
    root_key: SigningKey
    cert: x509.Certificate
    key: SigningKey

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)


def make_pki(
    key_type: str = "ec-p256",
    *,
    name: str = "Test",
    eku_critical: bool = True,
    eku: tuple[x509.ObjectIdentifier, ...] | None = None,
    now: datetime | None = None,
) -> Pki:
    now = now or datetime.now(UTC)
    root_key = pki.generate_key("ec-p256")
    key = pki.generate_key(key_type)
    root = pki.make_root(root_key, now=now, subject=pki.subject_name(f"{name} Root", name.lower()))
    kwargs = {} if eku is None else {"eku": eku}
    cert = pki.make_tsa_cert(
        key.public_key(),
        issuer=root,
        issuer_key=root_key,
        now=now,
        subject=pki.subject_name(f"{name} TSA", name.lower()),
        eku_critical=eku_critical,
        **kwargs,
    )
    return Pki(root=root, root_key=root_key, cert=cert, key=key)


# -- a fixed vector: root (EC P-256), TSA certificate and RSA-2048 key, valid 2025-01-01 to 2044 ------

VECTOR_ROOT_PEM = b"""-----BEGIN CERTIFICATE-----
MIIB5DCCAYmgAwIBAgIUfsGPfumP6SiF/yBedG0VH/8JTxEwCgYIKoZIzj0EAwIw
TTEPMA0GA1UECgwGTGVnYXRvMRgwFgYDVQQLDA9pbnN0YW5jZSB2ZWN0b3IxIDAe
BgNVBAMMF0xlZ2F0byBUZXN0IFZlY3RvciBSb290MCAXDTI1MDEwMTAwMDAwMFoY
DzIwNTQxMjI1MDEwMDAwWjBNMQ8wDQYDVQQKDAZMZWdhdG8xGDAWBgNVBAsMD2lu
c3RhbmNlIHZlY3RvcjEgMB4GA1UEAwwXTGVnYXRvIFRlc3QgVmVjdG9yIFJvb3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARW5FgYCrBauBySXZY/1kV5iMwMR3Q/
WIv+H1h6a9NfPBPxXY6vZrYTxGkLGEYr15hlmxrbaj25iMdvEFnif4ZLo0UwQzAS
BgNVHRMBAf8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUKb0B
41LGMBIC80Ut8SEMDYiGrv8wCgYIKoZIzj0EAwIDSQAwRgIhANyMm+kvC5OdpAL5
NVQkWYNIizngGxrMuCIj1zYlnXl/AiEAnqyKNtrJxz97F9YbZIgPa6BwQJgSeA2+
w/XhxBCKx+c=
-----END CERTIFICATE-----
"""

VECTOR_TSA_PEM = b"""-----BEGIN CERTIFICATE-----
MIIC3jCCAoSgAwIBAgIUYRNagqIVQZKKNgpwskWIG9+WdfAwCgYIKoZIzj0EAwIw
TTEPMA0GA1UECgwGTGVnYXRvMRgwFgYDVQQLDA9pbnN0YW5jZSB2ZWN0b3IxIDAe
BgNVBAMMF0xlZ2F0byBUZXN0IFZlY3RvciBSb290MB4XDTI1MDEwMTAwMDAwMFoX
DTQ0MTIyNzAxMDAwMFowTDEPMA0GA1UECgwGTGVnYXRvMRgwFgYDVQQLDA9pbnN0
YW5jZSB2ZWN0b3IxHzAdBgNVBAMMFkxlZ2F0byBUZXN0IFZlY3RvciBUU0EwggEi
MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDYpPoOvzC1uzSLnjZYgLaC6to+
UE1KTqn4ZRUJ6FRoHTGmTt28noU0NnX7u8ZN7Kn2gHoCwOpEgcszaWr3EFlExy2h
pHKPTbPZTaWRW9QvQEnEjTReUiVs1GQuAnDERhzQJb1k5MuQaqqHWr4+W12bxlLK
9/10YkKyty7kIQscN4BSq0ZKMaxd5qVU9lN9pjyVZoHNnVSreOhtySlfCPB0cSql
yKCtUu7hH+vfxcuIfofZeFmPey0BaeTqxKVrVl4RyUtY4oVw3QJqvEI+rzKRrzkL
Zs3X9OoOk/tAly6CzC5kcRLDNOxQgagImmmwaEzHrNedpn7kyW2C/aKQz/kDAgMB
AAGjeDB2MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMB0GA1UdDgQWBBSH
oHQk0TtcxBsuWXS48AEv3nVeejAfBgNVHSMEGDAWgBQpvQHjUsYwEgLzRS3xIQwN
iIau/zAWBgNVHSUBAf8EDDAKBggrBgEFBQcDCDAKBggqhkjOPQQDAgNIADBFAiEA
yndyve4E326+dQw08s1eiYqEmYCo4VLEGMo/X3YqvDgCIAM9HW2IWHyURryMbssG
bWzP8Z6n/Du7DmQhoaao01WT
-----END CERTIFICATE-----
"""

VECTOR_TSA_KEY_PEM = b"""-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDYpPoOvzC1uzSL
njZYgLaC6to+UE1KTqn4ZRUJ6FRoHTGmTt28noU0NnX7u8ZN7Kn2gHoCwOpEgcsz
aWr3EFlExy2hpHKPTbPZTaWRW9QvQEnEjTReUiVs1GQuAnDERhzQJb1k5MuQaqqH
Wr4+W12bxlLK9/10YkKyty7kIQscN4BSq0ZKMaxd5qVU9lN9pjyVZoHNnVSreOht
ySlfCPB0cSqlyKCtUu7hH+vfxcuIfofZeFmPey0BaeTqxKVrVl4RyUtY4oVw3QJq
vEI+rzKRrzkLZs3X9OoOk/tAly6CzC5kcRLDNOxQgagImmmwaEzHrNedpn7kyW2C
/aKQz/kDAgMBAAECggEADTuOdoYhEIidvgVs5lz+SOLVb8bx4Z8KbLyn21IQjcdy
t+jLTHEWS8kjzbt7clkJTKAuU6q65HJVGg/PU8Xw3e2YkO39fVlOqfA/M7C7NiOk
HdhOIZC87nfOoqzNfH+X1PLpLZd4A5swTVIympZ0Eka72d/p4Ej8L/RWbeLCzfdN
GHv4MMD+HB0svenZfk2dzj3aygLgzQFt7bbRQ4/X4R9bEAvGVzg01o4l7jpv88jm
7mKGj4DVXnARwhx0+lmJSb+VhsUtAnXMtrAWlrHovWzsNpArKRubhdYnAy/DHbT+
Al0+VAk4QGRcwIu9huMdSQDSh+564Vgk+kZLYCqIqQKBgQD125jZKw8Qs0fbneW3
R/A27PGOxIc8PXfstAvgZNfHuq8E2WUShfUiHDR7hMJ7+/d+ibh0ZwIegIoC15uw
4yaDVSx0MJcLmv2YDhM8J1FnKhqxCzqiQwsd7tXZExRejP02EGzKy+tVkEYpHuyk
A9KL5dsm98Wal4G7o2aa4342lQKBgQDhlN6U+z8TUF2hSrE7UA1fpcrmIDG8FyRq
vLKK4zn0zHs2hzQDok+prL8nK5nXn+oNYtePlqMU0Tv2JOzFSKZRGAIfdukyGsLh
uq6ypdHW9WIpADZK1ii/8diOK8x3OozMPhCkvhRMZkbOWNwh+xO6WfpksE1Nc0QX
yUDYUrSDNwKBgH+sLt6vxp4Ei89XWsBn4i2TtAlQs22r+gf4o6Y+l/OHVXXuMteA
qwCwpuxxz9E00pxqhlgkWexfEcxSDO65tvlClNgtl3KWZRS+UmzNei9ZpQzFaQh0
SmSb739Psic7jg6yTtytMqN3TYfzIC44MfEmRz0gNASIov0+6HyMoLFVAoGAWkHk
ZRu5+xJWxChMjXzUPQbrDfSnsahYy9RAY83S7J28Vu714tZYpX0W5qdNYLb9QOnh
cfRFwBiPs0bG7ZDJ6vx+LPS5DXEjtImrSJOMSEPaSKlrD7psh5BOo2Pm5XWpzDax
FhlvqbnqbrmjKn15QUCrLQpVg72w6wt9RJCi5TUCgYEA0gXxOqnnBiKvTgI+2exS
KzZr/te0o8JenXR5QsV+yvhRBs0lKgUcIp0qs/LHKfctAFjyGMrAfgOIlOBfpiUE
jc6hPDT7niPfXnPeG+IY0hSDk3U0BnGy0042Q2CzUUkBKf8YevvQTqI9qQsiTdrO
opr1sVx2Bc0wCyUwyeuRUvc=
-----END PRIVATE KEY-----
"""
"""A test-only key, published here on purpose: it signs nothing but this vector."""
