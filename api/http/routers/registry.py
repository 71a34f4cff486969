"""``/registry``: register texts, fetch certificates, check for plagiarism, verify certificates; and the
public trust anchors beside it: ``/.well-known/legato-trust.json`` and ``/verify/{certificate_id}``."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from accounts.models import Role
from api.http.deps import ContainerDep, CurrentUser, SessionDep, WriterUser
from api.http.errors import BadRequest, Forbidden
from api.http.inputguard import check_json_bytes
from api.http.schemas.registry import (
    CheckIn,
    CheckOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationResult,
    VerifyIn,
    VerifyOut,
)
from registry.certificate import serialize
from registry.certificate_verify import Report
from registry.service import Author, Registered

_registry = APIRouter(prefix="/registry", tags=["registry"])
router = APIRouter()


def _result(registered: Registered) -> RegistrationResult:
    state = registered.certificate
    return RegistrationResult(
        registration=RegistrationOut.model_validate(registered.registration),
        certificate_cid=state.cid if state else None,
        certificate=json.loads(state.body) if state else None,
    )


@_registry.post("/registrations", status_code=status.HTTP_201_CREATED, response_model=RegistrationResult)
def register(
    body: RegistrationIn, user: WriterUser, container: ContainerDep, session: SessionDep, response: Response
) -> RegistrationResult:
    registered = container.registry.register(
        session,
        text=body.text,
        title=body.title,
        author=Author(id=user.id, display_name=user.public_name, wallet=user.wallet_address),
        author_signature=body.author_signature,
    )
    if not registered.created:
        response.status_code = status.HTTP_200_OK
    return _result(registered)


@_registry.get("/registrations/{registration_id}", response_model=RegistrationResult)
def get_registration(
    registration_id: str, user: CurrentUser, container: ContainerDep, session: SessionDep
) -> RegistrationResult:
    reg = container.registry.get(session, registration_id)
    if reg.author_id != user.id and user.role != Role.admin:
        raise Forbidden("Only the author can see this registration; its certificate is public.")
    return _result(Registered(reg, False, container.registry.certificate_for_registration(session, reg)))


@_registry.get("/certificates/{certificate_id}.pdf", response_class=Response,
               responses={200: {"content": {"application/pdf": {}}}})
async def certificate_pdf(certificate_id: str, container: ContainerDep) -> Response:
    """The latest state as one A4 page a person can read, with a QR code to ``/verify/{id}``. Public
    like the JSON; rendered once per CID (the bytes behind a CID never change)."""
    if len(certificate_id) > 64:
        raise BadRequest("A certificate id is at most 64 characters.")
    pdf, cid = await run_in_threadpool(container.certificate_pdf, certificate_id)
    return Response(pdf, media_type="application/pdf", headers={
        "ETag": f'"{cid}.pdf"', "Cache-Control": "no-cache",
        "Content-Disposition": f'inline; filename="certificate-{certificate_id}.pdf"'})


@_registry.get("/certificates/{certificate_id}", responses={200: {"content": {"application/json": {}}}})
def get_certificate(
    certificate_id: str, container: ContainerDep, session: SessionDep, request: Request
) -> Response:
    """The exact certificate bytes (latest state). Public: certificates are published on IPFS anyway."""
    state = container.registry.latest_certificate(session, certificate_id)
    etag = f'"{state.cid}"'
    headers = {
        "ETag": etag,
        "X-Certificate-CID": state.cid,
        "X-Certificate-State": state.state,
        "Cache-Control": "no-cache",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(state.body, media_type="application/json", headers=headers)


@_registry.post("/check", response_model=CheckOut)
def check(body: CheckIn, user: WriterUser, container: ContainerDep, session: SessionDep) -> CheckOut:
    report = container.registry.check(session, text=body.text, author_id=user.id)
    return CheckOut(sha256=report.sha256, would_be_refused=report.refused, matches=report.matches)


@_registry.post("/verify", response_model=VerifyOut)
async def verify(body: VerifyIn, container: ContainerDep) -> VerifyOut:
    """Public: checks a certificate the way ``legato verify`` does, against this server's chain."""
    data = body.certificate.encode() if isinstance(body.certificate, str) else serialize(body.certificate)
    check_json_bytes(data)  # the string form is JSON inside JSON: bounded like a body before parsing
    report = await run_in_threadpool(container.verify_certificate, data, body.text, body.expected_cid)
    return VerifyOut.from_report(report)


@_registry.post("/verify/upload", response_model=VerifyOut)
async def verify_upload(
    container: ContainerDep,
    certificate: Annotated[UploadFile, File(description="The certificate file, exact bytes.")],
    text: Annotated[UploadFile | None, File(description="The work's text (UTF-8).")] = None,
) -> VerifyOut:
    data = await certificate.read()
    text_bytes = await text.read() if text is not None else None
    if not data:
        raise BadRequest("The certificate file is empty.")
    check_json_bytes(data)
    report = await run_in_threadpool(container.verify_certificate, data, text_bytes, None)
    return VerifyOut.from_report(report)


@_registry.get(
    "/tsa/ca.pem", response_class=Response, responses={200: {"content": {"application/x-pem-file": {}}}}
)
def tsa_ca(container: ContainerDep) -> Response:
    return Response(b"".join(container.timestamper.trust_roots_pem()), media_type="application/x-pem-file")


@router.get("/.well-known/legato-trust.json", tags=["registry"],
            responses={200: {"content": {"application/json": {}}}})
async def trust_document(container: ContainerDep) -> Response:
    """What a verifier pins: signing keys with validity, TSA roots, chain id, contract addresses
    (docs/trust.md). Public; short-cached, since a key rotation must show soon."""
    trust = await run_in_threadpool(container.trust)
    return Response(trust.to_bytes(), media_type="application/json",
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/verify/{certificate_id}", response_model=VerifyOut, tags=["registry"])
async def verify_by_id(certificate_id: str, container: ContainerDep) -> VerifyOut:
    """The verdict on a certificate this server issued, its latest state checked against this server's
    trust and chain, with its CID. The certificate's QR code opens this URL."""
    if len(certificate_id) > 64:
        raise BadRequest("A certificate id is at most 64 characters.")

    def run() -> Report:
        with container.session_factory() as session:
            state = container.registry.latest_certificate(session, certificate_id)
            body, cid = bytes(state.body), state.cid
        return container.verify_certificate(body, None, cid)

    return VerifyOut.from_report(await run_in_threadpool(run))


router.include_router(_registry)
