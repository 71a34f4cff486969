"""Opaque cursors for keyset pagination.

A cursor is base64url of a small JSON object (the sort key of the last row returned). Clients treat it as
opaque; a damaged or forged cursor is ``INVALID_CURSOR``, never a server fault.

A cursor is at most ``MAX_CURSOR_CHARS`` long, so what it decodes to nests at most a few hundred levels:
far within what ``json.loads`` handles, and every value is then checked for the type and range it must
have (``cursor_time``, ``cursor_id``, ``cursor_offset``) before a query sees it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from content.errors import InvalidCursor

T = TypeVar("T")
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
# Far beyond any cursor this API issues (a handful of short keys), so a forged one is cheap to refuse.
MAX_CURSOR_CHARS = 512
MAX_CURSOR_ID_CHARS = 64
# Offset paging (search) stops here: deeper pages cost a scan of every row before them.
MAX_OFFSET = 10_000


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=_default).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def decode_cursor(cursor: str | None, *keys: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("The cursor is not one this API issued.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, RecursionError) as e:  # also bytes that are not UTF-8
        raise InvalidCursor("The cursor is not one this API issued.") from e
    if not isinstance(values, dict) or any(k not in values for k in keys):
        raise InvalidCursor("The cursor is not one this API issued.")
    return values


def cursor_time(values: dict[str, Any], key: str) -> datetime:
    """The cursor's time in UTC. Moving a time at the ends of the calendar to UTC overflows (year 1 at
    +14:00 is year 0), which the database driver would hit as a 500, so it is converted here."""
    try:
        parsed = datetime.fromisoformat(values[key])
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError) as e:
        raise InvalidCursor("The cursor is not one this API issued.") from e


def cursor_id(values: dict[str, Any], key: str) -> str:
    value = values[key]
    if not isinstance(value, str) or len(value) > MAX_CURSOR_ID_CHARS or "\x00" in value or not _utf8(value):
        raise InvalidCursor("The cursor is not one this API issued.")
    return value


def _utf8(value: str) -> bool:
    """False for a string with an unpaired surrogate (``"\\ud800"`` decodes to one), which no database
    driver can encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def cursor_offset(cursor: str | None) -> int:
    values = decode_cursor(cursor, "o")
    if values is None:
        return 0
    offset = values["o"]
    # bool is an int subclass: ``{"o": true}`` is not an offset.
    if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
        raise InvalidCursor("The cursor is not one this API issued.")
    return offset


def page_of(rows: list[T], limit: int, make_cursor: Any) -> Page[T]:
    """``rows`` was fetched with ``limit + 1``: the extra row only says whether another page exists."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, make_cursor(rows[-1]))
    return Page(rows, None)


def keyset_page(
    session: Session, query: Select[Any], *, time_col: InstrumentedAttribute[Any],
    id_col: InstrumentedAttribute[Any], cursor: str | None, limit: int,
    key: Callable[[Any], tuple[datetime, str]], newest_first: bool = True,
) -> Page[Any]:
    """One page of ``query`` ordered by ``(time_col, id_col)``, starting after ``cursor``.

    Rows are the single entity when the query selects one, else tuples; ``key(row)`` gives the row's
    ``(time, id)``, which the next cursor carries. Ties on time are broken by id, so no row is skipped
    or repeated between pages."""
    after = decode_cursor(cursor, "t", "id")
    if after is not None:
        t, last = cursor_time(after, "t"), cursor_id(after, "id")
        if newest_first:
            query = query.where(or_(time_col < t, and_(time_col == t, id_col < last)))
        else:
            query = query.where(or_(time_col > t, and_(time_col == t, id_col > last)))
    order = (time_col.desc(), id_col.desc()) if newest_first else (time_col, id_col)
    single = len(query.column_descriptions) == 1
    rows = [r[0] if single else tuple(r) for r in session.execute(query.order_by(*order).limit(limit + 1))]

    def make_cursor(row: Any) -> str:
        t, row_id = key(row)
        return encode_cursor({"t": t, "id": row_id})

    return page_of(rows, limit, make_cursor)
