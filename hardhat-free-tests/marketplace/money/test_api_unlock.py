"""The reader's side of the money "done when" over HTTP — buy coins, unlock a paid chapter, read it, the
writer sees 70% — and ``legato payouts subscription-pool`` paying writers from real reading progress."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from conftest import make_settings
from factories import auth_headers, chapter_text, make_chapter, make_story, make_user
from money_support import assert_ledger_ok
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.migrate import upgrade
from api.wiring import Container
from content.reading import record_progress


def test_reader_buys_coins_unlocks_and_reads_the_writer_earns_70_percent(client, session, container):
    writer = make_user(session, container, role="writer")
    wh = auth_headers(container, writer)
    story = client.post("/stories", json={"title": "Night Market"}, headers=wh).json()
    text = chapter_text(8_675_309)
    paid = client.post(f"/stories/{story['id']}/chapters", json={"title": "Lanterns", "content": text,
                                                                 "price_coins": 37}, headers=wh).json()
    free = client.post(f"/stories/{story['id']}/chapters", json={"title": "Prologue", "content": "Dusk."},
                       headers=wh).json()
    for chapter in (paid, free):
        assert client.post(f"/chapters/{chapter['id']}/publish", headers=wh).status_code == 200

    reader = make_user(session, container, role="reader")
    rh = auth_headers(container, reader)
    url = f"/stories/{story['id']}/chapters/{paid['id']}"
    locked = client.get(url, headers=rh).json()
    assert locked["locked"] is True and locked["content"] is None and locked["price_coins"] == 37
    broke = client.post(f"/chapters/{paid['id']}/unlock", headers=rh)
    assert broke.status_code == 402 and broke.json()["error"]["code"] == "INSUFFICIENT_FUNDS"

    checkout = client.post("/payments/checkout", json={"package_id": "handful"}, headers=rh).json()
    assert client.post(urlsplit(checkout["checkout_url"]).path).status_code == 200
    assert client.get("/payments/wallet", headers=rh).json()["coins"] == 100

    unlocked = client.post(f"/chapters/{paid['id']}/unlock", headers=rh)
    assert unlocked.status_code == 200 and unlocked.json()["charged"] is True
    assert unlocked.json()["chapter"]["content"] == text
    again = client.post(f"/chapters/{paid['id']}/unlock", headers=rh)
    assert again.status_code == 200 and again.json()["charged"] is False  # twice charges once
    read = client.get(url, headers=rh).json()
    assert read["locked"] is False and read["content"] == text
    assert client.get("/payments/wallet", headers=rh).json()["coins"] == 100 - 37
    # Decision kept from the content service: unlocking a free chapter is a 400, not a silent no-op,
    # so a client that thinks a chapter costs coins learns that it does not.
    assert client.post(f"/chapters/{free['id']}/unlock", headers=rh).status_code == 400
    earnings = client.get("/payments/earnings", headers=wh).json()
    assert earnings["by_source"]["unlocks"] == 25  # floor(37 × 0.70) = 25; the platform keeps 12
    assert_ledger_ok(session)


def test_subscription_pool_cli_pays_writers_by_real_reading_progress(tmp_path, monkeypatch, test_chain,
                                                                     test_tsa):
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    settings = make_settings(tmp_path / "data", database_url=url)
    container = Container(settings)
    container.chain, container.timestamper = test_chain, test_tsa
    upgrade(container.engine)
    feb = datetime(2020, 2, 10, 12, tzinfo=UTC)
    with container.session_factory() as session:
        w1, w2 = make_user(session, container), make_user(session, container)
        stories = [make_story(session, container, w) for w in (w1, w2)]
        chapters = [make_chapter(session, container, s, published=True) for s in stories]
        reader = make_user(session, container, role="reader")
        order = container.subscriptions.order(session, user_id=reader.id, plan_id="monthly", now=feb)
        checkout = container.payments.start_checkout(session, user_id=reader.id, order=order)
        container.payments.confirm_test_checkout(session, checkout.id)
        record_progress(session, reader, chapters[0], stories[0], percentage=40, seconds=300, now=feb)
        record_progress(session, reader, chapters[1], stories[1], percentage=90, seconds=100, now=feb)
        session.commit()
        writer_ids = (w1.id, w2.id)
    container.engine.dispose()

    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGATO_DATABASE_URL", url)
    runner = CliRunner()
    run = runner.invoke(cli_app, ["payouts", "subscription-pool", "--month", "2020-02"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.stdout)
    # 499 ¢, platform 30 %: writers share floor(499 × 0.7) = 349, split 300 : 100 seconds with the
    # largest remainder: 261.75 → 262, 87.25 → 87.
    amounts = {s["writer_id"]: (s["amount_cents"], s["seconds"]) for s in report["statements"]}
    assert amounts == {writer_ids[0]: (262, 300), writer_ids[1]: (87, 100)}
    assert report["pool_cents"] == 499 and report["platform_cents"] == 150
    replay = json.loads(runner.invoke(cli_app, ["payouts", "subscription-pool", "--month", "2020-02"]).stdout)
    assert replay["already_distributed"] is True and replay["statements"] == report["statements"]
    assert runner.invoke(cli_app, ["ledger", "check"]).exit_code == 0
