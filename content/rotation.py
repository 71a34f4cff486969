"""Re-encrypting every stored chapter text under the keyring's current key.

Rows are taken in small batches, each committed on its own, so a rotation over a large library never
holds one long transaction and can be stopped and run again: a row already under the current key is
skipped. The keyring keeps the old keys, so a row not yet reached stays readable meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker, undefer

from content.crypto import ContentCipher, Sealed, chapter_aad, version_aad
from content.models.stories import Chapter, ChapterVersion


@dataclass
class ReencryptReport:
    chapters: int = 0
    versions: int = 0


def _batch(session: Session, model: type[Chapter] | type[ChapterVersion], current: str, size: int) -> list:
    return list(session.scalars(
        select(model).where(model.key_id != current).options(undefer(model.body_enc))
        .order_by(model.id).limit(size).with_for_update(skip_locked=True)
    ))


def reencrypt_all(
    factory: sessionmaker[Session], cipher: ContentCipher, *, batch_size: int = 200
) -> ReencryptReport:
    report = ReencryptReport()
    current = cipher.keyring.current_id
    while True:
        with factory.begin() as session:  # one batch, committed on its own
            rows = _batch(session, Chapter, current, batch_size)
            for ch in rows:
                sealed = cipher.reseal(Sealed(ch.key_id, ch.body_enc), chapter_aad(ch.id, ch.revision))
                ch.key_id, ch.body_enc = sealed.key_id, sealed.blob
            report.chapters += len(rows)
        if len(rows) < batch_size:
            break
    while True:
        with factory.begin() as session:  # one batch, committed on its own
            vrows = _batch(session, ChapterVersion, current, batch_size)
            for v in vrows:
                sealed = cipher.reseal(Sealed(v.key_id, v.body_enc), version_aad(v.chapter_id, v.version))
                v.key_id, v.body_enc = sealed.key_id, sealed.blob
            report.versions += len(vrows)
        if len(vrows) < batch_size:
            break
    return report


def rows_by_key(session: Session) -> dict[str, int]:
    """How many stored texts each key id seals (chapters and versions together)."""
    counts: dict[str, int] = {}
    for model in (Chapter, ChapterVersion):
        for kid, n in session.execute(select(model.key_id, func.count()).group_by(model.key_id)):
            counts[kid] = counts.get(kid, 0) + n
    return counts
