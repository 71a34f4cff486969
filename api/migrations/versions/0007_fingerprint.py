"""fingerprint: seal stored fingerprints, key their signatures, add a signatures-only column

Revision ID: 0007_fingerprint
Revises: 0006_races

Before this revision ``registrations.fingerprint`` held format-1 bytes: unkeyed shingle hashes in
reading order with every word's offsets, from which a word list recovers the text. Each row is
converted from what it stores (no chapter text is needed): its plain shingle hashes are re-keyed
with the fingerprint key into new signatures (``fingerprint_signatures``, readable, for the index)
and the whole fingerprint is sealed with that key into ``fingerprint``, replacing the old bytes.

The key is the deployment's ``keys/fingerprint.key`` in the data dir (``FingerprintKey.load_or_create``,
the same file the server uses); a caller that runs Alembic itself may pass it as
``config.attributes["fingerprint_key"]``. It is only read when there are rows to convert.
Downgrading opens every row again and writes format 1 back (which exposes the text again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0007_fingerprint"
down_revision = "0006_races"
branch_labels = None
depends_on = None

_BATCH = 200


def _key():  # type: ignore[no-untyped-def]
    from registry.fingerprint_key import FingerprintKey

    key = context.config.attributes.get("fingerprint_key")
    if key is None:
        from api.settings import Settings

        key = FingerprintKey.load_or_create(Settings().data_dir)
    return key


def _registrations() -> sa.Table:
    return sa.table(
        "registrations", sa.column("id", sa.String), sa.column("fingerprint", sa.LargeBinary),
        sa.column("fingerprint_signatures", sa.LargeBinary),
    )


def _convert(convert) -> None:  # type: ignore[no-untyped-def]
    """Rewrite every row with a fingerprint, in batches of ids (the blobs are ~31 KB each)."""
    conn = op.get_bind()
    table = _registrations()
    ids = conn.execute(sa.select(table.c.id).where(table.c.fingerprint.is_not(None)).order_by(table.c.id))
    ids = [row.id for row in ids]
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        rows = conn.execute(sa.select(table.c.id, table.c.fingerprint).where(table.c.id.in_(chunk))).all()
        for row in rows:
            values = convert(bytes(row.fingerprint), row.id)
            if values is not None:
                conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint_signatures", sa.LargeBinary(), nullable=True))

    from registry.fingerprint_key import rekey, sealed_key_id

    key = None

    def convert(blob: bytes, registration_id: str) -> dict[str, bytes] | None:
        nonlocal key
        if not blob or sealed_key_id(blob) is not None:
            return None  # nothing to convert (an empty placeholder, or sealed already)
        key = key or _key()
        sealed, signatures = rekey(blob, registration_id, old=None, new=key)
        return {"fingerprint": sealed, "fingerprint_signatures": signatures}

    _convert(convert)


def downgrade() -> None:
    from registry.fingerprint import Fingerprinter
    from registry.fingerprint_key import sealed_key_id

    key, public = None, Fingerprinter()

    def convert(blob: bytes, registration_id: str) -> dict[str, bytes] | None:
        nonlocal key
        if sealed_key_id(blob) is None:
            return None
        key = key or _key()
        fp = public.rekey(key.open(blob, registration_id))
        return {"fingerprint": fp.to_bytes(version=1)}

    _convert(convert)
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("fingerprint_signatures")
