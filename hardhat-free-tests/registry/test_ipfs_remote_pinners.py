"""The Kubo and pinning-service adapters: what they send, and every way the remote side can fail."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import ipfshttpclient
import ipfshttpclient.client
import ipfshttpclient.exceptions
import pytest
from test_ipfs_fakes import FakeKubo, FakePinningService

from registry.errors import ConfigurationError, NotFound, PinningUnavailable
from registry.ipfs import KuboPinner, LocalBlockstore, PinningServicePinner, cid_for_bytes
from registry.ipfs.kubo import to_multiaddr

CERT = b'{"anchor":null,"schema":"legato.certificate/v1"}'
ORIGINS = ["/dns4/legato.example/tcp/443/https"]
# ipfshttpclient 0.7.0 passes urllib3 a parameter it deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def kubo() -> Iterator[FakeKubo]:
    server = FakeKubo()
    yield server
    server.stop()


@pytest.fixture
def psa() -> Iterator[FakePinningService]:
    server = FakePinningService(token="tok")
    yield server
    server.stop()


def _psa_pinner(psa: FakePinningService, tmp_path: Path, token: str = "tok") -> PinningServicePinner:
    return PinningServicePinner(endpoint=psa.endpoint, token=token, origins=ORIGINS,
                                blockstore=LocalBlockstore(root=tmp_path / "ipfs"), timeout=5)


# --- Kubo -----------------------------------------------------------------------------------------
def test_ipfshttpclient_connect_refuses_a_current_kubo_so_the_adapter_builds_the_client_itself(kubo):
    with pytest.raises(ipfshttpclient.exceptions.VersionMismatch):
        ipfshttpclient.connect(kubo.multiaddr)
    assert KuboPinner(api=kubo.multiaddr).health()["version"] == "0.29.0"


def test_ipfshttpclient_defaults_send_raw_leaves_false_which_gives_another_cid(kubo):
    client = ipfshttpclient.client.Client(kubo.multiaddr)
    answer = client.add(io.BytesIO(b"hello\n"), cid_version=1)
    assert kubo.calls[-1][1]["raw-leaves"] == ["False"]
    assert answer["Hash"] == "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4"
    assert answer["Hash"] != cid_for_bytes(b"hello\n")


def test_kubo_add_names_every_parameter_that_determines_the_cid_and_pins(kubo):
    KuboPinner(api=kubo.multiaddr).add(CERT, name="legato-certificate-1-pending")
    (command, query), (pin_command, pin_query) = kubo.calls[-2:]
    assert command == "add"
    assert {k: query[k] for k in ("cid-version", "raw-leaves", "chunker", "hash", "pin")} == {
        "cid-version": ["1"], "raw-leaves": ["True"], "chunker": ["size-262144"], "hash": ["sha2-256"],
        "pin": ["True"],
    }
    assert (pin_command, pin_query["arg"]) == ("pin/add", [cid_for_bytes(CERT)])
    assert cid_for_bytes(CERT) in kubo.pins


def test_kubo_answering_another_cid_is_an_error_naming_both(kubo):
    kubo.answer_cid = "bafybeiffndsajwhk3lwjewwdxqntmjm4b5wxaaanokonsggenkbw6slwk4"
    with pytest.raises(PinningUnavailable) as info:
        KuboPinner(api=kubo.multiaddr).add(CERT)
    assert info.value.details["expected"] == cid_for_bytes(CERT)
    assert info.value.details["got"] == kubo.answer_cid
    assert not any(command == "pin/add" for command, _ in kubo.calls)


def test_kubo_reads_are_offline_and_unknown_content_is_not_found(kubo):
    pinner = KuboPinner(api=kubo.multiaddr)
    with pytest.raises(NotFound):
        pinner.get(cid_for_bytes(b"never added"))
    assert kubo.calls[-1][1]["offline"] == ["true"]


def test_kubo_down_is_unavailable_for_every_call():
    pinner = KuboPinner(api=f"http://127.0.0.1:{_closed_port()}", timeout=2)
    for call in (lambda: pinner.add(CERT), lambda: pinner.get(cid_for_bytes(CERT)),
                 lambda: pinner.has(cid_for_bytes(CERT)), pinner.health):
        with pytest.raises(PinningUnavailable, match="cannot be reached"):
            call()


def test_kubo_that_does_not_answer_in_time_is_unavailable(kubo):
    kubo.delay = 1.0
    with pytest.raises(PinningUnavailable, match="did not answer"):
        KuboPinner(api=kubo.multiaddr, timeout=0.2).health()


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        ("/ip4/127.0.0.1/tcp/5001/http", ("/ip4/127.0.0.1/tcp/5001/http", "api/v0", "http://127.0.0.1:5001")),
        ("http://127.0.0.1:5001", ("/ip4/127.0.0.1/tcp/5001/http", "api/v0", "http://127.0.0.1:5001")),
        ("http://kubo:5001/api/v0/", ("/dns/kubo/tcp/5001/http", "api/v0", "http://kubo:5001")),
        ("https://[::1]:5443", ("/ip6/::1/tcp/5443/https", "api/v0", "https://[::1]:5443")),
    ],
)
def test_legato_ipfs_api_accepts_multiaddrs_and_urls(api, expected):
    assert to_multiaddr(api) == expected


@pytest.mark.parametrize("api", ["kubo:5001", "ftp://kubo:21", "http://kubo:port", "/ip4/127.0.0.1/udp/5001"])
def test_unusable_legato_ipfs_api_is_a_configuration_error(api):
    with pytest.raises(ConfigurationError):
        KuboPinner(api=api)


# --- pinning service ----------------------------------------------------------------------------------
def test_psa_add_keeps_the_bytes_locally_and_requests_the_pin_with_name_and_origins(psa, tmp_path):
    pinner = _psa_pinner(psa, tmp_path)
    cid = pinner.add(CERT, name="legato-certificate-1-pending")
    posts = [payload for method, _, _, payload in psa.calls if method == "POST"]
    assert posts == [{"cid": cid, "name": "legato-certificate-1-pending", "origins": ORIGINS}]
    assert pinner.blockstore.get(cid) == CERT
    assert [p["status"] for p in pinner.status(cid)] == ["pinned"]


def test_psa_looks_for_all_live_statuses_because_get_pins_defaults_to_pinned_only(psa, tmp_path):
    _psa_pinner(psa, tmp_path).add(CERT)
    first_lookup = next(query for method, _, query, _ in psa.calls if method == "GET")
    assert first_lookup == {"cid": [cid_for_bytes(CERT)], "status": ["queued,pinning,pinned"]}


def test_psa_retry_does_not_duplicate_a_live_pin_request_but_renews_a_failed_one(psa, tmp_path):
    pinner = _psa_pinner(psa, tmp_path)
    pinner.add(CERT)
    pinner.add(CERT)
    assert len(psa.pins) == 1
    next(iter(psa.pins.values()))["status"] = "failed"
    assert pinner.has(cid_for_bytes(CERT)) is False
    pinner.add(CERT)
    assert sorted(p["status"] for p in psa.pins.values()) == ["failed", "queued"]


def test_psa_rejected_token_is_a_clear_unavailable_error(psa, tmp_path):
    with pytest.raises(PinningUnavailable, match="rejected the access token") as info:
        _psa_pinner(psa, tmp_path, token="wrong").add(CERT)
    assert info.value.details["status"] == 401
    assert info.value.details["reason"] == "UNAUTHORIZED"


def test_psa_rate_limit_carries_retry_after(psa, tmp_path):
    psa.force_status = 429
    with pytest.raises(PinningUnavailable, match="rate-limiting") as info:
        _psa_pinner(psa, tmp_path).health()
    assert info.value.details["retry_after"] == "30"


def test_psa_server_error_is_unavailable(psa, tmp_path):
    psa.force_status = 503
    with pytest.raises(PinningUnavailable, match="HTTP 503"):
        _psa_pinner(psa, tmp_path).add(CERT)


def test_psa_down_is_unavailable_but_pinned_bytes_are_still_served_locally(tmp_path):
    store = LocalBlockstore(root=tmp_path / "ipfs")
    cid = store.add(CERT)
    pinner = PinningServicePinner(endpoint=f"http://127.0.0.1:{_closed_port()}", token="tok",
                                  blockstore=store, timeout=2)
    with pytest.raises(PinningUnavailable, match="cannot be reached"):
        pinner.add(CERT)
    with pytest.raises(PinningUnavailable):
        pinner.has(cid)
    assert pinner.get(cid) == CERT


def test_psa_that_does_not_answer_in_time_is_unavailable(psa, tmp_path):
    psa.delay = 1.0
    pinner = PinningServicePinner(endpoint=psa.endpoint, token="tok",
                                  blockstore=LocalBlockstore(root=tmp_path / "ipfs"), timeout=0.2)
    with pytest.raises(PinningUnavailable, match="did not answer"):
        pinner.health()
