"""Races from issue 9, with real concurrency: requests from threads through one app whose container runs
on a real engine (no test savepoint), so each request commits in its own connection. On PostgreSQL
(``LEGATO_TEST_DATABASE_URL``) the racers really overlap; SQLite serializes writers (``BEGIN IMMEDIATE``),
so there the same tests check the outcome without the overlap.

The racers commit, so this module works in a database of its own (a schema on PostgreSQL, a file on
SQLite), dropped at the end, and never leaves rows behind for other tests.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from factories import auth_headers, chapter_text, make_user
from fastapi.testclient import TestClient
from live_support import live_app, own_database, race
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.wiring import Container
from content.models.community import Report, ReportStatus
from content.models.stories import ChapterVersion
from marketplace.licensing.models import AgreementStatus, LicenseAgreement, LicensePayment, PaymentStatus
from marketplace.licensing.terms import grant_id
from registry.errors import LicenseOverlap as ChainLicenseOverlap
from registry.models import Registration

RACERS = 20
_seeds = itertools.count(random.SystemRandom().randrange(10**9))


@pytest.fixture(scope="module")
def live_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from own_database(tmp_path_factory, "races")


@pytest.fixture
def live(  # type: ignore[no-untyped-def]
    live_engine: Engine, shared_data_dir: Path, test_chain, test_tsa
) -> Iterator[tuple[Container, TestClient]]:
    yield from live_app(live_engine, shared_data_dir, test_chain, test_tsa)


def user(container: Container, role: str = "writer") -> tuple[Any, dict[str, str]]:
    with Session(container.engine, expire_on_commit=False) as s:
        u = make_user(s, container, role=role)
    return u, auth_headers(container, u)


def draft_chapter(client: TestClient, headers: dict[str, str]) -> tuple[str, str]:
    story = client.post("/stories", json={"title": "Race", "genre": "adventure", "description": "d"},
                        headers=headers)
    assert story.status_code == 201, story.text
    ch = client.post(f"/stories/{story.json()['id']}/chapters",
                     json={"title": "One", "content": chapter_text(next(_seeds))}, headers=headers)
    assert ch.status_code == 201, ch.text
    return story.json()["id"], ch.json()["id"]


# --- publishing ----------------------------------------------------------------------------------


def test_racing_publishes_of_one_chapter_make_one_version_and_one_certificate(live):  # type: ignore[no-untyped-def]
    container, client = live
    _, wh = user(container)
    _, chapter_id = draft_chapter(client, wh)

    results = race(RACERS, lambda _: client.post(f"/chapters/{chapter_id}/publish", headers=wh))

    codes = [r.status_code for r in results]
    assert all(c in (200, 409) for c in codes), codes
    assert codes.count(200) >= 1
    assert len({r.json()["certificate_id"] for r in results if r.status_code == 200}) == 1
    with Session(container.engine) as s:
        versions = s.scalar(select(func.count()).select_from(ChapterVersion)
                            .where(ChapterVersion.chapter_id == chapter_id))
        registrations = s.scalar(select(func.count()).select_from(Registration)
                                 .where(Registration.chapter_id == chapter_id))
    assert (versions, registrations) == (1, 1)


# --- registration --------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", ["username", "email"])
def test_racing_registrations_of_one_name_get_one_account_and_409s(live, shared):  # type: ignore[no-untyped-def]
    _, client = live
    n = next(_seeds)

    def register(i: int) -> Any:
        body = {"email": f"race{n}-{i}@example.org", "username": f"race{n}_{i}",
                "password": "correct horse battery staple", "role": "reader"}
        body[shared] = f"same{n}@example.org" if shared == "email" else f"same{n}"
        return client.post("/auth/register", json=body)

    results = race(RACERS, register)

    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * (RACERS - 1), codes
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "CONFLICT"
            assert r.json()["error"]["details"] == {"field": shared}


def test_racing_registrations_of_one_username_in_different_cases_get_one_account(live):  # type: ignore[no-untyped-def]
    _, client = live
    n = next(_seeds)
    name = f"samecase{n}"

    def register(i: int) -> Any:
        variant = "".join(c.upper() if (i >> k) & 1 else c for k, c in enumerate(name))
        return client.post("/auth/register", json={
            "email": f"case{n}-{i}@example.org", "username": variant,
            "password": "correct horse battery staple", "role": "reader"})

    results = race(RACERS, register)

    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * (RACERS - 1), codes
    assert all(r.json()["error"]["details"] == {"field": "username"} for r in results if r.status_code == 409)


# --- reports -------------------------------------------------------------------------------------


def test_racing_reports_of_one_target_by_one_user_leave_one_open_report(live):  # type: ignore[no-untyped-def]
    container, client = live
    reporter, rh = user(container, role="reader")
    target, _ = user(container, role="reader")
    body = {"target_type": "user", "target_id": target.id, "reason": "spam"}

    results = race(RACERS, lambda _: client.post("/reports", json=body, headers=rh))

    codes = [r.status_code for r in results]
    assert all(c in (200, 201) for c in codes), codes
    assert codes.count(201) == 1
    assert len({r.json()["id"] for r in results}) == 1
    with Session(container.engine) as s:
        open_reports = s.scalar(select(func.count()).select_from(Report).where(
            Report.reporter_id == reporter.id, Report.target_id == target.id,
            Report.status == ReportStatus.open))
    assert open_reports == 1


# --- licensing: the grant of a paid agreement ------------------------------------------------------


class CountingChain:
    """The session's chain, counting how many callers are inside ``grant_license`` at once. A caller
    that finds itself alone waits briefly for a second one, so two callers that both passed the
    agreement's checks are sure to be seen together (that wait is a rendezvous, not a measurement)."""

    def __init__(self, chain: Any) -> None:
        self._chain = chain
        self._lock = threading.Lock()
        self._second = threading.Event()
        self.inside = 0
        self.most_inside = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chain, name)

    def grant_license(self, **kwargs: Any) -> Any:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            if self.inside > 1:
                self._second.set()
        try:
            self._second.wait(timeout=1.0)
            return self._chain.grant_license(**kwargs)
        finally:
            with self._lock:
                self.inside -= 1


class OwnGrantOverlapChain:
    """What the chain adapter does when another sender's grant with the same id is mined between its
    look-up and its conflict check: the grant is recorded, and the check reports it as an overlap."""

    def __init__(self, chain: Any) -> None:
        self._chain = chain

    def __getattr__(self, name: str) -> Any:
        return getattr(self._chain, name)

    def grant_license(self, **kwargs: Any) -> Any:
        self._chain.grant_license(**kwargs)
        raise ChainLicenseOverlap("the license overlaps grant on the same work and medium",
                                  details={"conflicting_grant_id": "0x" + kwargs["grant_id"].hex()})


def accepted_agreement(container: Container, client: TestClient) -> tuple[dict[str, Any], dict[str, str]]:
    """A writer's story with a published chapter, listed; a studio's offer, accepted: the studio's view
    of the agreement (with its checkout URL) and the studio's headers."""
    _, wh = user(container)
    story_id, chapter_id = draft_chapter(client, wh)
    assert client.post(f"/chapters/{chapter_id}/publish", headers=wh).status_code == 200
    listing = client.post("/marketplace/listings", headers=wh, json={
        "story_id": story_id, "media": ["film"], "territory": "worldwide", "exclusive": True,
        "asking_fee_cents": 100_000})
    assert listing.status_code == 201, listing.text
    _, sh = user(container, role="studio")
    offer = client.post(f"/marketplace/listings/{listing.json()['id']}/offers", headers=sh, json={
        "media": "film", "territory": "worldwide", "exclusive": True, "start": "2027-01-01T00:00:00Z",
        "end": "2030-01-01T00:00:00Z", "fee_cents": 100_000, "revenue_share_pct": 2})
    assert offer.status_code == 201, offer.text
    accepted = client.post(f"/marketplace/offers/{offer.json()['id']}/accept", headers=wh)
    assert accepted.status_code == 201, accepted.text
    return accepted.json()["agreement"], sh


def settled_once(container: Container, agreement_id: str) -> tuple[AgreementStatus, list[PaymentStatus]]:
    with Session(container.engine) as s:
        agreement = s.get(LicenseAgreement, agreement_id)
        assert agreement is not None
        payments = s.scalars(select(LicensePayment.status)
                             .where(LicensePayment.agreement_id == agreement_id)).all()
        return agreement.status, list(payments)


def test_racing_checkout_posts_and_worker_grant_once_and_keep_the_fee(live):  # type: ignore[no-untyped-def]
    container, client = live
    agreement, _ = accepted_agreement(container, client)
    counting = CountingChain(container.chain)
    container.chain = counting
    confirm = urlsplit(agreement["checkout_url"]).path

    def act(i: int) -> Any:
        # Two POSTs of the checkout URL (each grants after its payment) and a worker round.
        return container.licensing_round() if i == 2 else client.post(confirm)

    results = race(3, act)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(r.status_code < 500 for r in results[:2]), [r.text for r in results[:2]]
    assert counting.most_inside == 1  # one caller at a time sends the agreement's grant
    assert settled_once(container, agreement["id"]) == (AgreementStatus.active, [PaymentStatus.settled])
    assert container.chain.find_grant(grant_id(agreement["id"], "film")) is not None


def test_own_grant_reported_as_overlap_is_recognized_not_refunded(live):  # type: ignore[no-untyped-def]
    container, client = live
    agreement, _ = accepted_agreement(container, client)
    container.chain = OwnGrantOverlapChain(container.chain)

    paid = client.post(urlsplit(agreement["checkout_url"]).path)

    assert paid.status_code == 200, paid.text
    status, payments = settled_once(container, agreement["id"])
    assert (status, payments) == (AgreementStatus.active, [PaymentStatus.settled])
    with Session(container.engine) as s:
        grants = s.get(LicenseAgreement, agreement["id"]).grants  # type: ignore[union-attr]
    assert [g["grant_id"] for g in grants] == ["0x" + grant_id(agreement["id"], "film").hex()]
