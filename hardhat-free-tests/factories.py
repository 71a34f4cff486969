"""Factories for test data: each makes a valid object with unique fields, overridable by keyword."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from api.container import Container
from api.models.accounts import Role, User

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_user(session: Session, container: Container, *, role: str = "writer", **fields: Any) -> User:
    n = next(_seq)
    values: dict[str, Any] = {
        "email": f"user{n}@example.org",
        "username": f"user{n}",
        "password": PASSWORD,
        "role": Role(role),
    }
    values.update(fields)
    user = container.accounts.register(session, **values)
    session.commit()
    return user


def auth_headers(container: Container, user: User) -> dict[str, str]:
    token = container.tokens.issue_access(user_id=user.id, role=user.role.value)
    return {"Authorization": f"Bearer {token}"}
