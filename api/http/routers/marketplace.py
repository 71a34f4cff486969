"""``/marketplace``: licensing listings, offers, agreements, ownership and chain of title, disputes.

Thin on purpose: each route checks the caller's role and hands over to the marketplace services, which
check the caller against the object (a studio sees and moves only its own offers, only the listing's
writer answers them, only admins rule on disputes). docs/licensing.md describes the flow.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from accounts.models import Role, User
from api.http.deps import (
    AdminUser,
    ContainerDep,
    CurrentUser,
    OptionalUser,
    SessionDep,
    StudioUser,
    WriterUser,
)
from api.http.schemas.bounds import CentsQuery, Offset
from api.http.schemas.marketplace import (
    AgreementOut,
    DisputeIn,
    DisputeOut,
    ListingIn,
    ListingOut,
    ListingPage,
    MetricsOut,
    NoteIn,
    OfferAccepted,
    OfferEventOut,
    OfferOut,
    OwnershipOut,
    RulingIn,
    TermsIn,
)
from api.wiring import Container
from api.works import SORTS, Metrics, browse_listings, metrics_for, ownership
from content.models.stories import Story
from marketplace.errors import NotFound
from marketplace.licensing.catalog import public_work
from marketplace.licensing.disputes import Ruling
from marketplace.licensing.models import (
    DisputeStatus,
    LicenseAgreement,
    LicenseListing,
    LicenseOffer,
    OfferStatus,
)
from marketplace.licensing.offers import LIVE, Action, answerer
from marketplace.licensing.terms import Actor

router = APIRouter(prefix="/marketplace", tags=["marketplace"])


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, is_admin=user.role == Role.admin)


# --- listings ------------------------------------------------------------------------------------
def _listing_out(listing: LicenseListing, story: Story, author: User | None, metrics: Metrics) -> ListingOut:
    out = ListingOut.model_validate(listing)
    out.title, out.genre = story.title, story.genre
    out.author_name = author.public_name if author else None
    out.metrics = MetricsOut.model_validate(metrics)
    return out


def _one_listing(session: Session, listing: LicenseListing) -> ListingOut:
    story = session.get(Story, listing.story_id)
    if story is None:
        raise NotFound("No such listing.", details={"listing_id": listing.id})
    metrics = metrics_for(session, [story])[story.id]
    return _listing_out(listing, story, session.get(User, story.author_id), metrics)


@router.post("/listings", status_code=status.HTTP_201_CREATED, response_model=ListingOut)
def create_listing(body: ListingIn, user: WriterUser, container: ContainerDep, session: SessionDep) -> object:
    """List one of your stories for licensing. Every published chapter must have a certificate."""
    listing = container.listings.create(
        session, actor=actor_of(user), story_id=body.story_id, media=body.media, territory=body.territory,
        exclusive=body.exclusive, asking_fee_cents=body.asking_fee_cents, notes=body.notes)
    return _one_listing(session, listing)


@router.get("/listings", response_model=ListingPage)
def list_listings(
    user: CurrentUser, session: SessionDep, q: Annotated[str | None, Query(max_length=200)] = None,
    media: Annotated[str | None, Query(max_length=50)] = None,
    genre: Annotated[str | None, Query(max_length=50)] = None, exclusive: bool | None = None,
    max_fee_cents: CentsQuery = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")] = "newest",
    offset: Offset = 0, limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> object:
    """Browse active listings with each story's performance: reads, unique readers, completion rate,
    followers, rating. ``sort``: newest, reads, unique_readers, rating, followers, fee_low, fee_high."""
    rows, total = browse_listings(session, q=q, media=media, genre=genre, exclusive=exclusive,
                                  max_fee_cents=max_fee_cents, sort=sort, offset=offset, limit=limit)
    return ListingPage(items=[_listing_out(*row) for row in rows], total=total,
                       next_offset=offset + limit if offset + limit < total else None)


@router.get("/listings/{listing_id}", response_model=ListingOut)
def get_listing(listing_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    return _one_listing(session, container.listings.get(session, listing_id))


@router.post("/listings/{listing_id}/close", response_model=ListingOut)
def close_listing(listing_id: str, user: WriterUser, container: ContainerDep, session: SessionDep) -> object:
    """Take the listing down; live negotiations on it expire. Agreements already made stand."""
    listing = container.listings.close(session, actor=actor_of(user), listing_id=listing_id)
    return _one_listing(session, listing)


# --- offers --------------------------------------------------------------------------------------
def _offer_out(container: Container, session: Session, offer: LicenseOffer) -> OfferOut:
    out = OfferOut.model_validate(offer)
    out.turn = answerer(offer) if offer.status in LIVE else None
    out.history = [OfferEventOut.model_validate(e) for e in container.offers.history(session, offer)]
    return out


@router.post("/listings/{listing_id}/offers", status_code=status.HTTP_201_CREATED, response_model=OfferOut)
def make_offer(listing_id: str, body: TermsIn, user: StudioUser, container: ContainerDep,
               session: SessionDep) -> object:
    """A studio's terms for a listing; the writer answers (accept, counter, reject)."""
    listing = container.listings.get(session, listing_id, for_update=True)
    offer = container.offers.make(session, actor=actor_of(user), listing=listing, terms=body.as_terms())
    return _offer_out(container, session, offer)


@router.get("/offers", response_model=list[OfferOut])
def list_offers(user: CurrentUser, container: ContainerDep, session: SessionDep,
                status_: Annotated[OfferStatus | None, Query(alias="status")] = None) -> object:
    """Offers you made (studio) or received (writer); every offer for admins."""
    offers = container.offers.list_for(session, actor=actor_of(user), status=status_)
    return [_offer_out(container, session, o) for o in offers]


@router.get("/offers/{offer_id}", response_model=OfferOut)
def get_offer(offer_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    return _offer_out(container, session, container.offers.get(session, offer_id, actor=actor_of(user)))


@router.post("/offers/{offer_id}/counter", response_model=OfferOut)
def counter_offer(offer_id: str, body: TermsIn, user: CurrentUser, container: ContainerDep,
                  session: SessionDep) -> object:
    """New terms from the party whose turn it is; the other party answers them."""
    offer = container.offers.act(session, actor=actor_of(user), offer_id=offer_id, action=Action.counter,
                                 terms=body.as_terms())
    return _offer_out(container, session, offer)


@router.post("/offers/{offer_id}/accept", status_code=status.HTTP_201_CREATED, response_model=OfferAccepted)
def accept_offer(offer_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    """Accept the terms on the table (only the party who did not propose them): the agreement, terms
    hashed, awaiting the studio's payment at ``checkout_url``. 409 ``LICENSE_OVERLAP`` if the terms
    collide with another license (agreed or on chain): nothing is charged."""
    offer = container.offers.act(session, actor=actor_of(user), offer_id=offer_id, action=Action.accept)
    agreement = container.agreements.get(session, offer.agreement_id or "")
    return OfferAccepted(offer=_offer_out(container, session, offer),
                         agreement=_agreement_out(container, session, agreement, user))


@router.post("/offers/{offer_id}/reject", response_model=OfferOut)
def reject_offer(offer_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    offer = container.offers.act(session, actor=actor_of(user), offer_id=offer_id, action=Action.reject)
    return _offer_out(container, session, offer)


@router.post("/offers/{offer_id}/withdraw", response_model=OfferOut)
def withdraw_offer(offer_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    """Take back your own terms before the other party answers them."""
    offer = container.offers.act(session, actor=actor_of(user), offer_id=offer_id, action=Action.withdraw)
    return _offer_out(container, session, offer)


# --- agreements ----------------------------------------------------------------------------------
def _agreement_out(container: Container, session: Session, agreement: LicenseAgreement,
                   user: User) -> AgreementOut:
    fields = {name: getattr(agreement, name) for name in AgreementOut.model_fields
              if hasattr(agreement, name)}
    out = AgreementOut.model_validate({**fields, "terms": agreement.terms_document["terms"]})
    checkout = container.agreements.checkout_of(session, agreement)
    if checkout is not None:
        out.checkout_status = checkout.status.value
        # Only the two parties (and admins) reach an agreement; the URL is where the studio pays, and
        # the writer who accepted gets it too, to pass on.
        if checkout.status.value == "open":
            out.checkout_url = checkout.checkout_url
    certificate = container.agreements.certificate(session, agreement.id)
    if certificate is not None:
        out.license_certificate_id, out.license_certificate_cid = certificate.id, certificate.cid
    return out


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    return [_agreement_out(container, session, a, user)
            for a in container.agreements.list_for(session, actor=actor_of(user))]


@router.get("/agreements/{agreement_id}", response_model=AgreementOut)
def get_agreement(agreement_id: str, user: CurrentUser, container: ContainerDep,
                  session: SessionDep) -> object:
    agreement = container.agreements.get(session, agreement_id, actor=actor_of(user))
    return _agreement_out(container, session, agreement, user)


@router.post("/agreements/{agreement_id}/checkout", response_model=AgreementOut)
def agreement_checkout(agreement_id: str, user: StudioUser, container: ContainerDep,
                       session: SessionDep) -> object:
    """The studio's payment link: the open checkout, or a new one if the last expired or failed."""
    container.agreements.checkout(session, actor=actor_of(user), agreement_id=agreement_id)
    return _agreement_out(container, session, container.agreements.get(session, agreement_id), user)


@router.post("/agreements/{agreement_id}/cancel", response_model=AgreementOut)
def cancel_agreement(agreement_id: str, user: CurrentUser, container: ContainerDep,
                     session: SessionDep) -> object:
    """The studio (or an admin) drops an unpaid agreement and frees its slot."""
    agreement = container.agreements.cancel(session, actor=actor_of(user), agreement_id=agreement_id)
    return _agreement_out(container, session, agreement, user)


@router.get("/agreements/{agreement_id}/certificate", responses={200: {"content": {"application/json": {}}}})
def license_certificate(agreement_id: str, user: CurrentUser, container: ContainerDep,
                        session: SessionDep) -> Response:
    """The signed ``legato.license/v1`` certificate, exact bytes (also pinned to IPFS under its CID)."""
    container.agreements.get(session, agreement_id, actor=actor_of(user))
    certificate = container.agreements.certificate(session, agreement_id)
    if certificate is None:
        raise NotFound("The license is not active yet.", details={"agreement_id": agreement_id})
    return Response(certificate.body, media_type="application/json",
                    headers={"X-Certificate-CID": certificate.cid})


# --- works: ownership and chain of title ---------------------------------------------------------
# Public: a court or a rival must be able to check who owns a work without an account. The anonymous
# see what the chain shows anyway (certificates, anchors, grants, parties' public names); terms, fees and
# receipts stay with the parties.
ANONYMOUS = Actor(id="")


@router.get("/works/{story_id}/ownership", response_model=OwnershipOut)
def work_ownership(story_id: str, user: OptionalUser, container: ContainerDep, session: SessionDep) -> object:
    """The studio's chain-of-title check: the author, each published chapter's certificate and anchor,
    the licenses Legato holds (terms for their parties only) and the grants on the chain itself."""
    work = public_work(session, container.works, story_id)
    return ownership(session, work=work, agreements=container.agreements.of_work(session, story_id),
                     disputes=container.disputes.of_work(session, story_id), chain=lambda: container.chain,
                     actor=actor_of(user) if user else ANONYMOUS)


@router.get("/works/{story_id}/chain-of-title", responses={200: {"content": {"application/json": {}}}})
def chain_of_title(story_id: str, user: OptionalUser, container: ContainerDep,
                   session: SessionDep) -> Response:
    """One downloadable ``legato.chain-of-title/v1`` file: every chapter certificate, the license
    certificates and receipts you may see, the other grants. ``legato verify FILE`` checks it offline."""
    actor = actor_of(user) if user else ANONYMOUS
    bundle = container.chain_of_title.bundle(session, story_id=story_id, actor=actor)
    body = json.dumps(bundle, indent=2, ensure_ascii=False).encode("utf-8")
    disposition = f'attachment; filename="chain-of-title-{story_id}.json"'
    return Response(body, media_type="application/json", headers={"Content-Disposition": disposition})


# --- disputes ------------------------------------------------------------------------------------
@router.post("/disputes", status_code=status.HTTP_201_CREATED, response_model=DisputeOut)
def file_dispute(body: DisputeIn, user: WriterUser, container: ContainerDep, session: SessionDep) -> object:
    """Your registration was copied by a later one: the registry compares the two and the comparison is
    the evidence. An admin rules."""
    return container.disputes.file(session, actor=actor_of(user), statement=body.statement,
                                   original_registration_id=body.original_registration_id,
                                   copy_registration_id=body.copy_registration_id)


@router.get("/disputes", response_model=list[DisputeOut])
def list_disputes(user: CurrentUser, container: ContainerDep, session: SessionDep,
                  status_: Annotated[DisputeStatus | None, Query(alias="status")] = None) -> object:
    return container.disputes.list_for(session, actor=actor_of(user), status=status_)


@router.get("/disputes/{dispute_id}", response_model=DisputeOut)
def get_dispute(dispute_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep) -> object:
    return container.disputes.get(session, dispute_id, actor=actor_of(user))


@router.post("/disputes/{dispute_id}/resolve", response_model=DisputeOut)
def resolve_dispute(dispute_id: str, body: RulingIn, admin: AdminUser, container: ContainerDep,
                    session: SessionDep) -> object:
    """``upheld`` blocks the copying work (no listing, licensing or payout); ``dismissed`` ends it."""
    ruling = Ruling.uphold if body.outcome == "upheld" else Ruling.dismiss
    return container.disputes.rule(session, actor=actor_of(admin), dispute_id=dispute_id, ruling=ruling,
                                   note=body.note)


@router.post("/disputes/{dispute_id}/settle", response_model=DisputeOut)
def settle_dispute(dispute_id: str, body: NoteIn, admin: AdminUser, container: ContainerDep,
                   session: SessionDep) -> object:
    """The remedy of an upheld dispute is done: the respondent's payouts resume; the work stays blocked."""
    return container.disputes.rule(session, actor=actor_of(admin), dispute_id=dispute_id,
                                   ruling=Ruling.settle, note=body.note)


@router.post("/disputes/{dispute_id}/withdraw", response_model=DisputeOut)
def withdraw_dispute(dispute_id: str, user: WriterUser, container: ContainerDep,
                     session: SessionDep) -> object:
    return container.disputes.rule(session, actor=actor_of(user), dispute_id=dispute_id,
                                   ruling=Ruling.withdraw)
