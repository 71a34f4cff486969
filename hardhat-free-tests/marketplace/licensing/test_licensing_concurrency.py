"""Racing acceptances of overlapping exclusive offers, with real commits on separate connections: exactly
one agreement is made. On PostgreSQL (``LEGATO_TEST_DATABASE_URL``) the work's listing rows are locked
``FOR UPDATE``; on SQLite ``BEGIN IMMEDIATE`` serializes the acceptances. The test commits, so it works
on its own rows (a stub catalog, one registration) and deletes them afterwards."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from licensing_support import terms
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.wiring import Container
from marketplace.errors import LicenseOverlap
from marketplace.licensing.agreements import Agreements
from marketplace.licensing.catalog import ChapterRef, Party, WorkInfo
from marketplace.licensing.models import (
    LicenseAgreement,
    LicenseListing,
    LicenseOffer,
    ListingStatus,
    OfferEvent,
    OfferStatus,
)
from marketplace.licensing.offers import Action, Offers
from marketplace.licensing.terms import Actor
from marketplace.money.models import Checkout
from registry.models import CertificateState, Registration, RegistrationStatus

THREADS = 6


class StubCatalog:
    def __init__(self, work: WorkInfo) -> None:
        self._work = work

    def work(self, session, story_id):  # type: ignore[no-untyped-def]
        return self._work if story_id == self._work.story_id else None

    def party(self, session, user_id):  # type: ignore[no-untyped-def]
        return Party(id=user_id, display_name=user_id[:8], role="studio", wallet=None)


def test_racing_acceptances_of_one_exclusive_slot_make_one_agreement(engine, settings, test_chain):
    # Not the ``container`` fixture: its per-test transaction would hold SQLite's write lock.
    container = Container(settings, engine=engine)
    container.chain = test_chain
    story_id, writer_id, certificate_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    registration = Registration(
        id=str(uuid.uuid4()), certificate_id=certificate_id, work_id=str(uuid.uuid4()),
        status=RegistrationStatus.pending_anchor, title="race", story_id=story_id, author_id=writer_id,
        author_name="w", sha256="00" * 32, length=1, fingerprint=b"", minhash="{}", leaf_nonce="00" * 16)
    work = WorkInfo(story_id=story_id, title="Race", author_id=writer_id, author_name="w", public=True,
                    chapters=(ChapterRef(chapter_id="c1", number=1, title="One",
                                         certificate_id=certificate_id, registration_id=registration.id,
                                         sha256="00" * 32),))
    agreements = Agreements(catalog=StubCatalog(work), chain=lambda: container.chain,
                            payments=container.payments)
    offers = Offers(agreements=agreements)
    studios = [str(uuid.uuid4()) for _ in range(THREADS)]
    with Session(engine, expire_on_commit=False) as s:
        s.add(registration)
        s.flush()
        s.add(CertificateState(certificate_id=certificate_id, state="pending", body=b"{}", cid="x"))
        listing = LicenseListing(story_id=story_id, writer_id=writer_id, media=["film"],
                                 territory="worldwide", exclusive=True, asking_fee_cents=100,
                                 status=ListingStatus.active)
        s.add(listing)
        s.flush()
        offer_ids = [offers.make(s, actor=Actor(id=sid), listing=listing, terms=terms(media="film")).id
                     for sid in studios]
        s.commit()
    try:
        barrier = threading.Barrier(THREADS)
        results: list[object] = [None] * THREADS

        def accept(i: int) -> None:
            with Session(engine, expire_on_commit=False) as s:
                barrier.wait()
                try:
                    results[i] = offers.act(s, actor=Actor(id=writer_id), offer_id=offer_ids[i],
                                            action=Action.accept, now=datetime.now(UTC)).status
                    s.commit()
                except Exception as e:  # each racer's outcome is the test's data
                    s.rollback()
                    results[i] = e

        threads = [threading.Thread(target=accept, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sum(r == OfferStatus.accepted for r in results) == 1, results
        assert all(isinstance(r, LicenseOverlap) for r in results if r != OfferStatus.accepted), results
        with Session(engine) as s:
            made = s.scalars(select(LicenseAgreement).where(LicenseAgreement.story_id == story_id)).all()
            assert len(made) == 1
            checkouts = s.scalars(select(Checkout.id).where(Checkout.user_id.in_(studios))).all()
            assert checkouts == [made[0].checkout_id]
    finally:
        with Session(engine) as s, s.begin():
            s.execute(delete(LicenseAgreement).where(LicenseAgreement.story_id == story_id))
            s.execute(delete(Checkout).where(Checkout.user_id.in_(studios)))
            s.execute(delete(OfferEvent).where(OfferEvent.offer_id.in_(offer_ids)))
            s.execute(delete(LicenseOffer).where(LicenseOffer.story_id == story_id))
            s.execute(delete(LicenseListing).where(LicenseListing.story_id == story_id))
            s.execute(delete(CertificateState).where(CertificateState.certificate_id == certificate_id))
            s.execute(delete(Registration).where(Registration.id == registration.id))
