"""Opaque cursors for keyset pagination.

A cursor is base64url of a small JSON object (the sort key of the last row returned). Clients treat it as
opaque; a damaged or forged cursor is a 400 ``INVALID_CURSOR``, never a 500.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from api.content.errors import InvalidCursor

T = TypeVar("T")
MAX_LIMIT = 100
DEFAULT_LIMIT = 20


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
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except ValueError as e:
        raise InvalidCursor("The cursor is not one this API issued.") from e
    if not isinstance(values, dict) or any(k not in values for k in keys):
        raise InvalidCursor("The cursor is not one this API issued.")
    return values


def cursor_time(values: dict[str, Any], key: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(values[key])
    except (TypeError, ValueError) as e:
        raise InvalidCursor("The cursor is not one this API issued.") from e
    if parsed.tzinfo is None:
        raise InvalidCursor("The cursor is not one this API issued.")
    return parsed


def cursor_offset(cursor: str | None) -> int:
    values = decode_cursor(cursor, "o")
    if values is None:
        return 0
    offset = values["o"]
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursor("The cursor is not one this API issued.")
    return offset


def page_of(rows: list[T], limit: int, make_cursor: Any) -> Page[T]:
    """``rows`` was fetched with ``limit + 1``: the extra row only says whether another page exists."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, make_cursor(rows[-1]))
    return Page(rows, None)
