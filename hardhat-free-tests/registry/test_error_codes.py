"""Every registry error has a stable code under ``RegistryError``, and the HTTP layer maps each code once.

A code missing from ``STATUS_BY_CODE`` would reach a client as a 500; the registry's errors are found by
walking the package, so a new error class without a mapping fails here rather than in production.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import registry
from api.http.errors import STATUS_BY_CODE, install_error_handlers
from registry.errors import InvalidTimestamp, RegistryError
from registry.fingerprint import IncompatibleFingerprint
from registry.ipfs.blockstore import CorruptBlock, LocalBlockstore
from registry.timestamp import asn1


def _registry_errors() -> set[type[RegistryError]]:
    for info in pkgutil.walk_packages(registry.__path__, prefix="registry."):
        importlib.import_module(info.name)
    found: set[type[RegistryError]] = set()
    todo = [RegistryError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return {cls for cls in found if cls.__module__.startswith("registry.")}


def test_every_registry_error_code_is_mapped_to_an_http_status_once() -> None:
    errors = _registry_errors()
    assert {CorruptBlock, IncompatibleFingerprint, asn1.MalformedMessage} <= errors
    unmapped = sorted(f"{cls.__module__}.{cls.__name__} ({cls.code})" for cls in errors
                      if cls.code not in STATUS_BY_CODE)
    assert unmapped == []
    assert not [cls for cls in errors if "status" in vars(cls)]  # statuses belong to the HTTP layer


def test_malformed_timestamp_messages_are_registry_errors_failing_the_format_check() -> None:
    with pytest.raises(InvalidTimestamp) as info:
        asn1.parse_response(b"not DER at all")
    assert isinstance(info.value, asn1.MalformedMessage)
    assert info.value.code == "MALFORMED_TIMESTAMP_MESSAGE" and info.value.check == "format"
    assert STATUS_BY_CODE["MALFORMED_TIMESTAMP_MESSAGE"] == 422


def test_a_corrupt_block_is_a_503_through_the_gateway_and_re_adding_repairs_it(client, container, tmp_path):
    data = b'{"corrupt": "on purpose"}'
    container.pinner = store = LocalBlockstore(root=tmp_path / "ipfs")
    cid = store.add(data)
    (tmp_path / "ipfs" / "blocks" / cid[-3:-1] / cid).write_bytes(data.replace(b"purpose", b"accident"))
    r = client.get(f"/ipfs/{cid}")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "IPFS_BLOCK_CORRUPT" and r.json()["error"]["details"]["cid"] == cid
    store.add(data)
    assert client.get(f"/ipfs/{cid}").content == data


def test_incompatible_fingerprints_are_a_409_not_a_server_fault() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/compare")
    def compare() -> None:
        raise IncompatibleFingerprint("These fingerprints were made with different MinHash parameters.",
                                      details={"reason": "parameters"})

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/compare")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "INCOMPATIBLE_FINGERPRINT"
    assert r.json()["error"]["details"] == {"reason": "parameters"}
