"""AWS Signature Version 4 for the few JSON calls Polly needs, so the adapter needs no boto3.

The algorithm: a canonical request (method, path, sorted query, lower-cased signed headers, payload
hash), a string to sign naming the date, region and service, and an HMAC chain from the secret key.
Checked against the published AWS test vector (``get-vanilla``) in the contract tests.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def sign(
    *,
    method: str,
    host: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    now: datetime,
    payload_sha256: str | None = None,
) -> dict[str, str]:
    """Headers to add to the request: ``x-amz-date`` and ``Authorization``. ``payload_sha256`` stands
    for ``body`` when the body is streamed (S3 uploads) and was hashed beforehand."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    all_headers = {
        k.lower(): " ".join(v.split()) for k, v in {**headers, "host": host, "x-amz-date": amz_date}.items()
    }
    signed = ";".join(sorted(all_headers))
    canonical_headers = "".join(f"{k}:{all_headers[k]}\n" for k in sorted(all_headers))
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/-_.~"),
            canonical_query,
            canonical_headers,
            signed,
            payload_sha256 or hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "x-amz-date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, "
        f"Signature={signature}",
    }
