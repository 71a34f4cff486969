"""RFC 3161 timestamps: the ``Timestamper`` port, its two adapters and the strict verifier.

``EmbeddedTSA`` is the no-setup default (its own CA in the data dir); ``RemoteTSA`` talks to any RFC 3161
TSA over HTTP against pinned roots. Both return tokens that ``verify_token`` accepts, and that
``openssl ts -verify`` accepts too. See ``docs/timestamps.md``.
"""

from registry.timestamp.asn1 import LEGATO_EMBEDDED_POLICY_OID, build_request
from registry.timestamp.embedded import EmbeddedTSA
from registry.timestamp.protocol import Timestamper, TimestampToken, VerifiedTimestamp
from registry.timestamp.remote import RemoteTSA
from registry.timestamp.verify import verify_response, verify_token

__all__ = [
    "LEGATO_EMBEDDED_POLICY_OID",
    "EmbeddedTSA",
    "RemoteTSA",
    "TimestampToken",
    "Timestamper",
    "VerifiedTimestamp",
    "build_request",
    "verify_response",
    "verify_token",
]
