"""The money story end to end over HTTP, and ``legato ledger check`` / ``legato payouts`` on the CLI."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from factories import auth_headers, make_user
from money_support import assert_ledger_ok
from sqlalchemy import create_engine, update
from typer.testing import CliRunner

from api.cli import app as cli_app
from marketplace.money.models import LedgerAccount


def test_reader_buys_coins_unlocks_and_the_writer_sees_70_percent_and_is_paid(client, session, container):
    reader = make_user(session, container, role="reader")
    writer = make_user(session, container, role="writer")
    admin = make_user(session, container, role="admin")
    r_headers, w_headers = auth_headers(container, reader), auth_headers(container, writer)

    checkout = client.post("/payments/checkout", json={"package_id": "library"}, headers=r_headers).json()
    assert client.post(urlsplit(checkout["checkout_url"]).path).status_code == 200
    assert client.get("/payments/wallet", headers=r_headers).json()["coins"] == 6000

    # POST /chapters/{id}/unlock comes with the chapters router; it will make exactly this call
    for n, price in enumerate((1500, 1501, 999)):
        container.unlocks.unlock(session, reader_id=reader.id, writer_id=writer.id, chapter_id=f"chapter-{n}",
                                 price_coins=price)
    container.unlocks.unlock(session, reader_id=reader.id, writer_id=writer.id, chapter_id="chapter-0",
                             price_coins=1500)  # a replayed unlock charges nothing
    session.commit()
    wallet = client.get("/payments/wallet", headers=r_headers).json()
    assert wallet["coins"] == 6000 - 4000
    earnings = client.get("/payments/earnings", headers=w_headers).json()
    assert earnings["by_source"]["unlocks"] == 1050 + 1050 + 699  # 1050.7 → 1050; 699.3 → 699
    assert earnings["available_cents"] == 2799

    tip = client.post("/payments/tips", json={"writer_id": writer.id, "coins": 100, "message": "more!"},
                      headers=r_headers)
    assert tip.status_code == 201
    payout = client.post("/payments/payouts", json={"amount_cents": 2000}, headers=w_headers).json()
    assert payout["status"] == "paid"
    statement = client.get("/payments/earnings", headers=w_headers).json()
    assert statement["available_cents"] == 2799 + 90 - 2000

    check = client.get("/payments/ledger/check", headers=auth_headers(container, admin))
    assert check.status_code == 200 and check.json() == {"ok": True, "violations": []}
    assert client.get("/payments/ledger/check", headers=r_headers).status_code == 403
    assert_ledger_ok(session)


def test_openapi_lists_the_payment_routes_but_not_the_test_gateway(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/payments/coin-packages", "/payments/checkout", "/payments/webhooks/stripe",
                 "/payments/wallet", "/payments/tips", "/payments/earnings", "/payments/payouts"):
        assert path in paths
    assert not [p for p in paths if "test-gateway" in p]


def test_cli_ledger_check_passes_then_fails_on_a_broken_invariant(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LEGATO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEGATO_DATABASE_URL", url)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["ledger", "check", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"ok": True, "violations": []}

    pool = runner.invoke(cli_app, ["payouts", "subscription-pool", "--month", "2020-02"])
    assert pool.exit_code == 0, pool.output
    assert json.loads(pool.stdout)["pool_cents"] == 0
    assert runner.invoke(cli_app, ["payouts", "subscription-pool", "--month", "2020-2"]).exit_code == 1

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ledger_accounts (id, owner_type, owner_id, kind, currency, balance, allow_negative, "
            "created_at) VALUES ('acc-1', 'user', 'u-1', 'wallet', 'COIN', 0, 0, '2026-01-01 00:00:00')")
        conn.execute(update(LedgerAccount).where(LedgerAccount.id == "acc-1").values(balance=5))
    engine.dispose()
    broken = runner.invoke(cli_app, ["ledger", "check"])
    assert broken.exit_code == 1
    assert "BALANCE_MISMATCH" in broken.output and "1 violation" in broken.output
