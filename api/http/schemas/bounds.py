"""Integer bounds shared by request bodies, path and query parameters.

An unbounded ``int`` from a client reaches the database as is, and one past the column's range is a
driver error (a 500) on both engines; past 2^53 it is not even portable JSON. Each bound below is the
column's or JSON's, so anything outside it is a 422 before a query runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

INT32_MAX = 2**31 - 1
JSON_INT_MAX = 2**53

VersionNumber = Annotated[int, Path(ge=1, le=INT32_MAX)]
Offset = Annotated[int, Query(ge=0, le=10_000)]
CentsQuery = Annotated[int | None, Query(ge=0, le=JSON_INT_MAX)]
