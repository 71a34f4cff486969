"""``/docs`` and ``/redoc`` work offline: every script, style and icon they load is served here."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_other_hosts(client, page):
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not re.search(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", html), "an external URL in " + page
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/"), asset
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 0, asset


def test_swagger_ui_points_at_this_servers_openapi_without_the_online_validator(client):
    html = client.get("/docs").text
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    assert '"validatorUrl": null' in html
    assert client.get("/openapi.json").status_code == 200
