"""One contract for the ``Timestamper`` port, run against both adapters: the embedded TSA and the
remote adapter speaking RFC 3161 over HTTP to a real TSA endpoint."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC

import pytest
from tsa_helpers import serve

from registry.errors import InvalidTimestamp
from registry.timestamp import EmbeddedTSA, RemoteTSA, Timestamper, TimestampToken, verify_token


@pytest.fixture(scope="module", params=["embedded", "remote"])
def timestamper(request, tmp_path_factory) -> Iterator[Timestamper]:
    tsa = EmbeddedTSA(tmp_path_factory.mktemp("tsa"))
    if request.param == "embedded":
        yield tsa
        return
    with serve(tsa.handle_request) as served:
        remote = RemoteTSA(served.url, roots_pem=tsa.trust_roots_pem())
        yield remote
        remote.close()


def test_token_covers_exactly_the_digest_and_chains_to_the_roots(timestamper):
    digest = hashlib.sha256(b"the harmattan came early").digest()
    token = timestamper.timestamp(digest)
    assert isinstance(token, TimestampToken) and token.gen_time.tzinfo is UTC
    verified = verify_token(token.token_der, digest=digest, roots_pem=timestamper.trust_roots_pem())
    assert verified.gen_time == token.gen_time
    with pytest.raises(InvalidTimestamp):
        verify_token(token.token_der, digest=hashlib.sha256(b"other").digest(),
                     roots_pem=timestamper.trust_roots_pem())


def test_chain_is_signer_first_root_last(timestamper):
    token = timestamper.timestamp(hashlib.sha256(b"chain order").digest())
    assert token.chain_pem[-1].encode().strip() == timestamper.trust_roots_pem()[0].strip()
    assert token.chain_pem[0] != token.chain_pem[-1]


def test_two_tokens_differ(timestamper):
    digest = hashlib.sha256(b"same text").digest()
    assert timestamper.timestamp(digest).token_der != timestamper.timestamp(digest).token_der


def test_health_and_name(timestamper):
    assert isinstance(timestamper.health(), dict)
    assert isinstance(timestamper.name, str) and timestamper.name
