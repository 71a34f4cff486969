"""Registry tables: registrations, the certificate states issued for them, anchor batches.

A registration moves ``pending_timestamp`` → ``pending_anchor`` → ``anchored``. Every state change is a
committed row before any external call that depends on it, so a crash or an unreachable TSA, chain or
IPFS node leaves work waiting in a named state; the worker picks it up again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from registry.db import Base, new_id, utcnow

__all__ = ["AnchorBatch", "BatchStatus", "CertificateState", "Registration", "RegistrationStatus"]


class RegistrationStatus(enum.StrEnum):
    pending_timestamp = "pending_timestamp"
    pending_anchor = "pending_anchor"
    anchored = "anchored"


class BatchStatus(enum.StrEnum):
    built = "built"  # leaves fixed, manifest maybe not pinned yet, no transaction confirmed
    anchored = "anchored"  # root on chain; certificates being (or already) re-issued


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        Index("ix_registrations_status_created", "status", "created_at"),
        UniqueConstraint("work_id", "version", name="uq_registrations_work_version"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    certificate_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    work_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[RegistrationStatus] = mapped_column(Enum(RegistrationStatus, native_enum=False, length=24))

    title: Mapped[str] = mapped_column(String(300))
    story_id: Mapped[str | None] = mapped_column(String(36), index=True)
    chapter_id: Mapped[str | None] = mapped_column(String(36), index=True)
    author_id: Mapped[str] = mapped_column(String(200), index=True)
    author_name: Mapped[str] = mapped_column(String(200))
    author_wallet: Mapped[str | None] = mapped_column(String(42))
    author_signature: Mapped[str | None] = mapped_column(String(140))

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    length: Mapped[int]
    # Sealed (registry.fingerprint_key): the shingle sequence and word spans locate every word.
    fingerprint: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    # Readable: MinHash signatures over keyed shingle hashes, all the index rebuild reads (~2.4 KB).
    fingerprint_signatures: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    minhash: Mapped[str] = mapped_column(Text)  # JSON: parameters and digest, as in the certificate
    derived_from: Mapped[str | None] = mapped_column(Text)  # JSON: the certificate's derived_from, if any

    tsa_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    tsa_gen_time: Mapped[datetime | None]
    timestamp_json: Mapped[str | None] = mapped_column(Text)  # the certificate's timestamp section

    leaf_nonce: Mapped[str] = mapped_column(String(32))
    leaf: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("anchor_batches.id"), index=True)

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CertificateState(Base):
    """The exact bytes of one issued state of a certificate (pending, anchored) and its CID.

    ``pinned_at`` stays null while IPFS is unreachable; the worker pins it later. The bytes are kept
    here so the certificate can always be served and re-pinned, with or without IPFS.
    """

    __tablename__ = "certificate_states"
    __table_args__ = (UniqueConstraint("certificate_id", "state", name="uq_certificate_states_cert_state"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    certificate_id: Mapped[str] = mapped_column(ForeignKey("registrations.certificate_id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    cid: Mapped[str] = mapped_column(String(120), index=True)
    pinned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnchorBatch(Base):
    """One Merkle tree of registrations and the one transaction that records its root.

    The leaves are fixed when the row is written, so every retry sends the same root; the contract
    refuses a second anchor of a root, and the adapter reads back an earlier success instead of
    sending again: a batch is anchored once, never lost.
    """

    __tablename__ = "anchor_batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    status: Mapped[BatchStatus] = mapped_column(Enum(BatchStatus, native_enum=False, length=16), index=True)
    root: Mapped[str] = mapped_column(String(64), unique=True)
    leaf_count: Mapped[int]
    manifest: Mapped[bytes] = mapped_column(LargeBinary)
    manifest_cid: Mapped[str] = mapped_column(String(120))
    manifest_pinned_at: Mapped[datetime | None]
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    contract: Mapped[str | None] = mapped_column(String(42))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_timestamp: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    anchored_at: Mapped[datetime | None]
