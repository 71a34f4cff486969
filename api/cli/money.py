"""``legato ledger`` and ``legato payouts``: the ledger's invariant check and the operator's money jobs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

import typer
from sqlalchemy.orm import Session

from api.cli.base import app, err, open_container, out
from api.db import session_scope
from content.reading import reading_seconds_by_subscriber_and_writer
from marketplace.errors import MarketplaceError
from marketplace.money.ledger import check_ledger
from marketplace.money.subscriptions import next_month, parse_month

ledger_app = typer.Typer(no_args_is_help=True, help="The double-entry ledger.")
payouts_app = typer.Typer(no_args_is_help=True, help="Writer payouts and the subscription pool.")
app.add_typer(ledger_app, name="ledger")
app.add_typer(payouts_app, name="payouts")


def reading_engagement(
    session: Session, *, month: str, subscriber_ids: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Subscriber id → writer id → seconds read in ``month`` (UTC days), from the content service's
    per-day reading time. Writers' reading of their own chapters is never counted there."""
    start, end = date.fromisoformat(f"{month}-01"), date.fromisoformat(f"{next_month(month)}-01")
    by_reader = reading_seconds_by_subscriber_and_writer(session, start, end)
    return {sid: by_reader[sid] for sid in subscriber_ids if sid in by_reader}


@ledger_app.command("check")
def ledger_check(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Verify every ledger invariant; exit 1 if any is broken."""
    with open_container() as container, session_scope(container.session_factory) as session:
        violations = check_ledger(session)
    if as_json:
        out.print_json(json.dumps({"ok": not violations, "violations": [v.__dict__ for v in violations]}))
    elif violations:
        for v in violations:
            out.print(f"[red]{v.code}[/red] {v.message}")
    else:
        out.print("ledger ok: every transfer balances, cached balances match postings, "
                  "no user balance is negative")
    if violations:
        err.print(f"{len(violations)} violation(s)")
        raise typer.Exit(1)


@payouts_app.command("subscription-pool")
def subscription_pool(
    month: str = typer.Option(..., help="The month to distribute, YYYY-MM (UTC); it must have ended."),
    allow_unallocated: bool = typer.Option(
        False, help="If nobody read anything, give the writers' part to the platform instead of refusing."),
) -> None:
    """Divide a month's subscription pool among writers by engagement (once per month)."""
    try:
        parse_month(month)
        with open_container() as container, session_scope(container.session_factory) as session:
            subscriber_ids = [s.user_id for s in container.subscriptions.subscribers(session, month)]
            engagement = reading_engagement(session, month=month, subscriber_ids=subscriber_ids)
            result = container.subscriptions.distribute(session, month=month, engagement=engagement,
                                                        allow_unallocated=allow_unallocated)
            report: dict[str, Any] = {
                "month": month, "already_distributed": not result.created,
                "pool_cents": result.run.pool_cents,
                "writers_cents": result.run.writers_cents, "platform_cents": result.run.platform_cents,
                "subscribers": result.run.subscribers,
                "statements": [{"writer_id": s.writer_id, "amount_cents": s.amount_cents,
                                "seconds": s.seconds, "subscribers": s.subscribers}
                               for s in result.statements],
            }
    except MarketplaceError as e:
        err.print(f"[red]{e.code}[/red] {e.message} {e.details or ''}")
        raise typer.Exit(1) from e
    out.print_json(json.dumps(report))


@payouts_app.command("retry")
def retry() -> None:
    """Call the payout gateway again for payouts whose outcome is unknown (same idempotency keys)."""
    with open_container() as container, session_scope(container.session_factory) as session:
        payouts = container.payouts.retry_requested(session)
        for p in payouts:
            out.print(f"payout {p.id}: {p.status.value} {p.failure_reason or ''}", highlight=False)
    out.print(f"{len(payouts)} payout(s) retried", highlight=False)
