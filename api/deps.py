"""``Annotated`` dependencies shared by every router."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.container import Container
from api.db import session_scope
from api.errors import Forbidden, Unauthorized
from api.models.accounts import Role, User
from api.security import TokenError


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_session(container: ContainerDep) -> Iterator[Session]:
    """One session per request, committed before the response is sent (``scope="function"``) so a
    failed commit is reported to the client instead of lost after a 2xx."""
    with session_scope(container.session_factory) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def get_optional_user(
    container: ContainerDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    if credentials is None:
        return None
    try:
        claims = container.tokens.decode_access(credentials.credentials)
    except TokenError as e:
        raise Unauthorized(str(e), headers=_CHALLENGE) from e
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The account behind this token no longer exists.", headers=_CHALLENGE)
    if claims.session_id is not None and not container.accounts.session_alive(
        session, user_id=user.id, family_id=claims.session_id
    ):
        raise Unauthorized("The session of this token has ended (logout or revocation).", headers=_CHALLENGE)
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise Unauthorized("Authentication required.", headers=_CHALLENGE)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency that lets through only the given roles (admins always pass): 401 without a valid
    token, 403 with a valid token of another role."""
    allowed = {Role(r) for r in roles} | {Role.admin}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden(
                f"This action needs the role {' or '.join(sorted(roles))}.",
                details={"required_roles": sorted(roles), "role": user.role.value},
            )
        return user

    return check


WriterUser = Annotated[User, Depends(require_role("writer"))]
StudioUser = Annotated[User, Depends(require_role("studio"))]
AdminUser = Annotated[User, Depends(require_role("admin"))]
