"""The server's trust anchors over HTTP: the trust document at the well-known URL, and the verify routes
refusing forgeries by naming ``origin``: a certificate re-signed with a fresh key under an id the server
holds, and one under a held id with other bytes."""

from __future__ import annotations

import json

import pytest
from factories import auth_headers, chapter_text, make_user

from registry import certificate as cert_mod
from registry.signing import PlatformKey, new_key_pem
from registry.trust import TRUST_SCHEMA, Trust


@pytest.fixture
def writer(session, container):
    return make_user(session, container, role="writer")


def _register(client, container, writer, seed: int) -> tuple[str, bytes, str]:
    text = chapter_text(seed)
    r = client.post("/registry/registrations", json={"title": "Trust", "text": text},
                    headers=auth_headers(container, writer))
    assert r.status_code == 201, r.text
    cert_id = r.json()["registration"]["certificate_id"]
    return cert_id, client.get(f"/registry/certificates/{cert_id}").content, text


def _forge(body: bytes, key) -> bytes:
    doc = json.loads(body)
    doc["author"]["display_name"] = "Mallory Forger"
    return cert_mod.serialize(cert_mod.sign({k: v for k, v in doc.items() if k != "signature"}, key))


def test_trust_document_is_public_and_names_the_signing_key(client, container):
    r = client.get("/.well-known/legato-trust.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["schema"] == TRUST_SCHEMA
    assert [k["key_id"] for k in doc["signing_keys"]] == [container.signer.key_id]
    assert doc["signing_keys"][0]["valid_from"] and doc["signing_keys"][0]["retired_at"] is None
    assert doc["tsa_roots"] and doc["tsa_roots"][0].startswith("-----BEGIN CERTIFICATE-----")
    assert doc["chain"]["chain_id"] == container.chain.chain_id()
    assert doc["chain"]["registry"] == container.chain.registry_address()
    assert doc["chain"]["license_registry"] == container.chain.license_registry_address()
    assert Trust.parse(r.content).keys[0].public_key == doc["signing_keys"][0]["public_key"]


def test_verify_routes_fail_a_fresh_key_forgery_of_a_held_id_at_origin(client, container, writer):
    _, body, _ = _register(client, container, writer, 7300)
    forged = _forge(body, PlatformKey.from_pem(new_key_pem()))
    as_json = client.post("/registry/verify", json={"certificate": forged.decode()})
    assert as_json.status_code == 200 and as_json.json()["ok"] is False
    assert as_json.json()["first_failure"] == "origin"
    uploaded = client.post("/registry/verify/upload", files={"certificate": ("c.json", forged)})
    assert uploaded.json()["ok"] is False and uploaded.json()["first_failure"] == "origin"
    origin = next(c for c in uploaded.json()["checks"] if c["check"] == "origin")
    assert container.signer.key_id in origin["detail"] and origin["status"] == "fail"


def test_verify_routes_fail_a_held_id_with_other_bytes_even_under_the_platform_key(
    client, container, writer
):
    _, body, _ = _register(client, container, writer, 7301)
    swapped = _forge(body, container.signer)
    r = client.post("/registry/verify/upload", files={"certificate": ("c.json", swapped)})
    assert r.json()["first_failure"] == "origin"
    assert "other bytes" in next(c for c in r.json()["checks"] if c["check"] == "origin")["detail"]


def test_genuine_passes_and_skips_are_not_passes(client, container, writer):
    cert_id, body, text = _register(client, container, writer, 7302)
    r = client.post("/registry/verify", json={"certificate": body.decode(), "text": text})
    assert r.json()["ok"] is True, r.json()
    checks = {c["check"]: c for c in r.json()["checks"]}
    assert checks["origin"]["status"] == "pass" and checks["cid"]["status"] == "skip"
    assert checks["cid"]["ok"] is False and checks["merkle_proof"]["ok"] is False  # skipped, not passed
    by_id = client.get(f"/verify/{cert_id}")
    assert by_id.status_code == 200 and by_id.json()["ok"] is True
    assert {c["check"]: c["status"] for c in by_id.json()["checks"]}["cid"] == "pass"
    assert client.get("/verify/no-such-certificate").status_code == 404
    assert client.get("/verify/" + "x" * 65).status_code == 400


@pytest.mark.parametrize("mutate", [
    lambda d: d["anchor"].update(block_timestamp=10**30) if d.get("anchor") else d.update(issued_at="x"),
    lambda d: d.update(issued_at="not a time"),
    lambda d: d.update(issued_at=10**30),
    lambda d: d["signature"].update(public_key="!!not base64!!"),
    lambda d: d["signature"].update(key_id=["a", "list"]),
    lambda d: d.update(anchor={"chain_id": "x", "contract": None, "block_number": -1}),
    lambda d: d.update(anchor={"block_timestamp": -(10**20), "chain_id": 1, "contract": "0x0"}),
])
def test_hostile_certificate_fields_give_a_verdict_never_a_500(client, container, writer, mutate):
    _, body, _ = _register(client, container, writer, 7303)
    doc = json.loads(body)
    mutate(doc)
    data = json.dumps(doc)
    for r in (client.post("/registry/verify", json={"certificate": data}),
              client.post("/registry/verify/upload", files={"certificate": ("c.json", data.encode())})):
        if r.status_code == 422:  # integers past 2^53 are refused by the input guard before any parse
            assert r.json()["error"]["code"] == "NUMBER_OUT_OF_RANGE"
            continue
        assert r.status_code == 200, r.text
        assert r.json()["ok"] is False


def test_legato_verify_fetches_the_trust_document_from_a_url_bounded(container):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from api.cli.trust import load_trust
    from registry.errors import VerificationError
    from registry.trust import MAX_TRUST_BYTES

    pages = {"/trust.json": container.trust().to_bytes(), "/huge.json": b" " * (MAX_TRUST_BYTES + 1)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert load_trust(f"{base}/trust.json").keys[0].key_id == container.signer.key_id
        for bad in ("/huge.json", "/missing.json"):
            with pytest.raises(VerificationError):
                load_trust(base + bad)
    finally:
        server.shutdown()
        server.server_close()
