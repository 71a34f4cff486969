"""Every error, whatever produced it, has the envelope and a request id."""

from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter

from api.http.app import create_app

ENVELOPE_KEYS = {"code", "message", "details", "timestamp", "request_id"}


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == ENVELOPE_KEYS
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    assert body["error"]["timestamp"].endswith("Z")
    return body["error"]


def test_unknown_route_is_404_envelope(client):
    assert_envelope(client.get("/no/such/route"), 404, "NOT_FOUND")


def test_wrong_method_is_405_envelope(client):
    assert_envelope(client.delete("/health"), 405, "METHOD_NOT_ALLOWED")


def test_validation_error_is_422_with_field_details(client):
    err = assert_envelope(
        client.post("/auth/register", json={"email": "not-an-email", "username": "x", "password": "short",
                                            "role": "writer"}),
        422, "VALIDATION_ERROR",
    )
    fields = {tuple(e["loc"]) for e in err["details"]["errors"]}
    assert ("body", "email") in fields and ("body", "username") in fields and ("body", "password") in fields


def test_malformed_json_is_400(client):
    r = client.post(
        "/auth/login", content=b'{"email": "a", "password": ', headers={"content-type": "application/json"}
    )
    assert_envelope(r, 400, "MALFORMED_JSON")


def test_oversize_body_is_413_declared_and_streamed(container):
    container.settings.max_body_bytes = 1000
    from fastapi.testclient import TestClient

    with TestClient(create_app(container=container)) as small:
        r = small.post("/auth/login", content=b"x" * 5000, headers={"content-type": "application/json"})
        assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")

        def chunks():
            for _ in range(10):
                yield b"y" * 500

        r = small.post("/auth/login", content=chunks(), headers={"content-type": "application/json"})
        assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")


def test_unhandled_exception_is_500_without_trace_and_logged_with_request_id(container, caplog):
    app = create_app(container=container)
    boom = APIRouter()

    @boom.get("/boom")
    def _boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(boom)
    from fastapi.testclient import TestClient

    with caplog.at_level(logging.ERROR), TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"X-Request-ID": "trace-me-123"})
    err = assert_envelope(r, 500, "INTERNAL_ERROR")
    assert err["request_id"] == "trace-me-123"
    assert "secret internals" not in r.text and "Traceback" not in r.text
    logged = [rec for rec in caplog.records if rec.getMessage() == "unhandled error"]
    assert logged and logged[0].request_id == "trace-me-123" and logged[0].exc_info


def test_request_id_on_success_and_client_id_echoed(client):
    r = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "abc-123"
    r = client.get("/health", headers={"X-Request-ID": "bad id with spaces " + "x" * 200})
    assert r.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_openapi_served(client, path):
    assert client.get(path).status_code == 200


def test_health_reports_database(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["dependencies"]["database"]["status"] == "up"
