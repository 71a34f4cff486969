"""Hostile input gets a 4xx envelope, never a 500 or a dead process (issue 9).

Each case here was a 500 (or a crash) before: NUL reaching PostgreSQL, integers past BIGINT, cursors
with times at the ends of the calendar, ``title: null``, nesting deeper than the C stack.
"""

from __future__ import annotations

import base64
import json
import sys

import pytest
from factories import auth_headers, make_chapter, make_story, make_user
from test_api_envelope import assert_envelope

from api.http.app import create_app
from api.http.inputguard import MAX_JSON_DEPTH, SANE_RECURSION_LIMIT


def _cursor(values: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
def writer(session, container):
    return make_user(session, container, role="writer")


@pytest.fixture
def writer_h(container, writer):
    return auth_headers(container, writer)


@pytest.fixture
def story(session, container, writer):
    return make_story(session, container, writer)


@pytest.fixture
def chapter(session, container, story):
    return make_chapter(session, container, story, published=True)


# --- nesting ---------------------------------------------------------------------------------------


def test_app_restores_a_sane_recursion_limit_after_py_ecc(container):
    import py_ecc  # noqa: F401  (raises the limit to 100,000 on first import)

    sys.setrecursionlimit(100_000)  # as if py_ecc had just been imported
    create_app(container=container)
    assert sys.getrecursionlimit() <= SANE_RECURSION_LIMIT


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 70_000])
def test_deeply_nested_login_body_is_400(client, depth):
    r = client.post("/auth/login", content=b"[" * depth, headers={"content-type": "application/json"})
    assert_envelope(r, 400, "JSON_TOO_DEEP")


def test_deep_json_without_content_type_is_refused_too(client):
    # FastAPI decodes a body without a content type as JSON, so the guard must look at it as well.
    r = client.post("/auth/login", content=b'{"email": ' + b"[" * 5000)
    assert_envelope(r, 400, "JSON_TOO_DEEP")


def test_a_second_content_type_does_not_hide_a_json_body(client):
    headers = [("content-type", "application/json"), ("content-type", "text/plain")]
    r = client.post("/auth/login", content=b"[" * 5000, headers=headers)
    assert_envelope(r, 400, "JSON_TOO_DEEP")


def test_json_with_parameters_and_suffix_types_is_guarded(client):
    for ctype in ("application/json; charset=utf-8", "APPLICATION/JSON", "application/merge-patch+json"):
        r = client.post("/auth/login", content=b"[" * 5000, headers={"content-type": ctype})
        assert_envelope(r, 400, "JSON_TOO_DEEP")


def test_nesting_inside_strings_is_text_not_depth(client):
    r = client.post("/auth/login", json={"email": "[" * 10_000, "password": "x"})
    assert r.status_code == 422  # the email is too long: a validation error, not a depth refusal
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 200_000])
def test_deep_certificate_string_is_400(client, depth):
    r = client.post("/registry/verify", json={"certificate": "[" * depth})
    assert_envelope(r, 400, "JSON_TOO_DEEP")


def test_oversized_certificate_string_is_422(client):
    r = client.post("/registry/verify", json={"certificate": "[" * 300_000})
    assert_envelope(r, 422, "VALIDATION_ERROR")


def test_verify_upload_of_deep_json_is_400(client):
    r = client.post("/registry/verify/upload", files={"certificate": ("c.json", b"{" * 100_000)})
    assert_envelope(r, 400, "JSON_TOO_DEEP")


@pytest.mark.parametrize("big", [2**53 + 1, -(2**53) - 1, 10**30])
def test_verify_with_integer_beyond_2_53_is_422(client, big):
    doc = {"schema": "legato.certificate/v1", "id": "x", "content": {"length": big}}
    r = client.post("/registry/verify", content=json.dumps({"certificate": doc}),
                    headers={"content-type": "application/json"})
    assert_envelope(r, 422, "NUMBER_OUT_OF_RANGE")
    r = client.post("/registry/verify", json={"certificate": json.dumps(doc)})
    assert_envelope(r, 422, "NUMBER_OUT_OF_RANGE")


def test_integer_of_thousands_of_digits_is_422(client):
    # Python's decoder raises a plain ValueError past 4,300 digits, which FastAPI turned into a 500.
    r = client.post("/auth/login", content=b'{"email": ' + b"7" * 5000 + b', "password": "x"}',
                    headers={"content-type": "application/json"})
    assert_envelope(r, 422, "NUMBER_OUT_OF_RANGE")


def test_unterminated_string_of_escaped_quotes_is_a_parse_error(client):
    # Scanned in one pass (a retry from every quote made this body take minutes); the parser refuses it.
    body = b'{"email": "' + b'\\"' * 200_000
    r = client.post("/auth/login", content=body, headers={"content-type": "application/json"})
    assert_envelope(r, 400, "MALFORMED_JSON")


def test_nan_is_not_json(client):
    r = client.post("/registry/verify", content=b'{"certificate": {"x": NaN}}',
                    headers={"content-type": "application/json"})
    assert_envelope(r, 400, "MALFORMED_JSON")


# --- NUL and unpaired surrogates ---------------------------------------------------------------------


def test_nul_in_path_and_query_is_400(client):
    assert_envelope(client.get("/stories/%00"), 400, "INVALID_INPUT")
    assert_envelope(client.get("/search", params={"q": "a\x00b"}), 400, "INVALID_INPUT")


def test_nul_in_login_is_400(client):
    r = client.post("/auth/login", json={"email": "x\x00", "password": "whatever-password"})
    assert_envelope(r, 400, "INVALID_INPUT")


def test_escaped_backslash_before_u0000_is_plain_text(client, writer_h):
    r = client.post("/stories", json={"title": "back\\u0000slash"}, headers=writer_h)
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "back\\u0000slash"


def test_lone_surrogate_after_an_escaped_backslash_is_400(client, writer_h):
    # "\\" is a backslash; the "\ude00" after it is a real escape, and half a surrogate pair.
    r = client.post("/stories", content=b'{"title": "\\\\ud83d\\ude00"}',
                    headers={**writer_h, "content-type": "application/json"})
    assert_envelope(r, 400, "INVALID_INPUT")


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800 lone", "lone \udfff"])
def test_nul_or_lone_surrogate_in_text_fields_is_400(client, container, session, writer_h, story, chapter,
                                                      bad):
    cases = [
        ("POST", "/stories", {"title": bad}),
        ("POST", "/stories", {"title": "ok", "tags": [bad]}),
        ("PUT", f"/stories/{story.id}", {"description": bad}),
        ("PUT", "/auth/profile", {"bio": bad}),
        ("POST", f"/chapters/{chapter.id}/comments", {"body": bad}),
        ("PUT", "/payments/payout-destination", {"destination": bad}),
    ]
    for method, path, body in cases:
        r = client.request(method, path, content=json.dumps(body), headers={
            **writer_h, "content-type": "application/json"})
        assert_envelope(r, 400, "INVALID_INPUT")


# --- integers past their columns ---------------------------------------------------------------------


def test_version_number_past_bigint_is_422(client, writer_h, chapter):
    r = client.get(f"/chapters/{chapter.id}/versions/99999999999999999999", headers=writer_h)
    assert_envelope(r, 422, "VALIDATION_ERROR")


def test_listing_fee_filter_past_bigint_is_422(client, session, container):
    studio = make_user(session, container, role="studio")
    r = client.get("/marketplace/listings", params={"max_fee_cents": 2**63},
                   headers=auth_headers(container, studio))
    assert_envelope(r, 422, "VALIDATION_ERROR")


# --- null where a column cannot be null ---------------------------------------------------------------


def test_story_title_null_is_422_and_the_title_stays(client, writer_h, story):
    r = client.put(f"/stories/{story.id}", json={"title": None}, headers=writer_h)
    assert_envelope(r, 422, "VALIDATION_ERROR")
    assert client.get(f"/stories/{story.id}", headers=writer_h).json()["title"] == story.title


# --- cursors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [{"o": 2**63}, {"o": True}, {"o": -1}, {"o": 10**6}, {"o": [[[1]]]}])
def test_forged_search_cursor_is_400(client, values):
    r = client.get("/search", params={"q": "river", "cursor": _cursor(values)})
    assert_envelope(r, 400, "INVALID_CURSOR")


_FORGED_KEYSET = [
    {"t": "0001-01-01T00:00:00+14:00", "id": "y"},
    {"t": "9999-12-31T23:59:59-14:00", "id": "y"},
    {"t": "2026-01-01T00:00:00+00:00", "id": "y\x00"},
    {"t": "2026-01-01T00:00:00+00:00", "id": {"x": 1}},
    {"t": "2026-01-01T00:00:00+00:00", "id": "y" * 1000},
]


@pytest.mark.parametrize("values", _FORGED_KEYSET)
def test_forged_keyset_cursor_is_400_on_every_list(client, session, container, chapter, values):
    admin = make_user(session, container, role="admin")
    headers = auth_headers(container, admin)
    cursor = _cursor({"p": 0, **values})
    for path in ("/stories", "/me/library", "/me/bookmarks", "/me/history", "/admin/reports",
                 f"/chapters/{chapter.id}/comments"):
        r = client.get(path, params={"cursor": cursor}, headers=headers)
        assert_envelope(r, 400, "INVALID_CURSOR")


def test_oversized_cursor_is_400(client):
    assert_envelope(client.get("/stories", params={"cursor": "A" * 5000}), 400, "INVALID_CURSOR")


# --- /health ------------------------------------------------------------------------------------------


def test_health_shows_anonymous_only_names_and_states(client, session, container):
    body = client.get("/health").json()
    assert body["dependencies"], body
    for name, dep in body["dependencies"].items():
        assert dep == {"status": dep["status"]}, name
    assert str(container.settings.data_dir) not in json.dumps(body)


def test_health_shows_details_to_admins_only(client, session, container):
    reader = make_user(session, container, role="reader")
    admin = make_user(session, container, role="admin")
    as_reader = client.get("/health", headers=auth_headers(container, reader)).json()
    as_admin = client.get("/health", headers=auth_headers(container, admin)).json()
    assert all(set(d) == {"status"} for d in as_reader["dependencies"].values())
    assert any(set(d) - {"status"} for d in as_admin["dependencies"].values())
    bad = client.get("/health", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 200 and all(set(d) == {"status"} for d in bad.json()["dependencies"].values())


# --- manuscript import ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"# On\x00e\n\nText.\n", b"# One\n\nText with a \x00 in it.\n"])
def test_imported_manuscript_with_nul_is_400(client, writer_h, story, body):
    r = client.post(f"/stories/{story.id}/import", files={"file": ("book.md", body, "text/markdown")},
                    headers=writer_h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_MANUSCRIPT", r.text


# --- strings past their columns (found by Schemathesis on PostgreSQL) ------------------------------------


def test_language_tag_longer_than_its_column_is_422(client, writer_h, story):
    tag = "en-abcdefgh-abcdefgh"  # matches the BCP 47 pattern, but 20 > 16 characters
    r = client.put("/auth/profile", json={"preferred_language": tag}, headers=writer_h)
    assert_envelope(r, 422, "VALIDATION_ERROR")
    r = client.put(f"/stories/{story.id}", json={"language": tag}, headers=writer_h)
    assert_envelope(r, 422, "VALIDATION_ERROR")
