"""Request and response bodies for the registry routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from registry.certificate_verify import Report

MAX_TEXT_CHARS = 500_000  # as a chapter's
MAX_CERTIFICATE_CHARS = 200_000  # a certificate with its TSA chain is a few KiB


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    text: str = Field(
        min_length=1, max_length=MAX_TEXT_CHARS,
        description="The work's text; canonicalized as legato-text-v1.",
    )
    author_signature: str | None = Field(
        None, pattern=r"^0x[0-9a-fA-F]{130}$",
        description="EIP-191 personal_sign of the 32-byte content SHA-256 by the profile's wallet.",
    )


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class RegistrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    certificate_id: str
    work_id: str
    version: int
    status: str
    title: str
    story_id: str | None
    chapter_id: str | None
    author_id: str
    sha256: str
    length: int
    batch_id: str | None
    last_error: str | None
    created_at: datetime


class RegistrationResult(BaseModel):
    registration: RegistrationOut
    certificate_cid: str | None
    certificate: dict[str, Any] | None


class CheckOut(BaseModel):
    sha256: str
    would_be_refused: bool
    matches: list[dict[str, Any]]


class VerifyIn(BaseModel):
    certificate: Annotated[str, StringConstraints(max_length=MAX_CERTIFICATE_CHARS)] | dict[str, Any] = Field(
        description="The certificate: its exact bytes as a string (so the CID can be checked), or the object."
    )
    text: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    expected_cid: str | None = Field(None, max_length=200)


class CheckResultOut(BaseModel):
    check: str
    ok: bool
    status: str
    detail: str


class VerifyOut(BaseModel):
    ok: bool
    first_failure: str | None
    checks: list[CheckResultOut]

    @classmethod
    def from_report(cls, report: Report) -> VerifyOut:
        failed = report.first_failure
        return cls(ok=report.ok, first_failure=failed.check if failed else None,
                   checks=[CheckResultOut(**r.as_dict()) for r in report.results])
