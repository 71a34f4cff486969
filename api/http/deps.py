"""``Annotated`` dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from accounts.credentials import TokenError
from accounts.models import Role, User
from api.db import ReaderWrote, TransactionMode, use_transaction_mode
from api.http.concurrency import READER_SCOPE_KEY, DbGate, in_own_thread
from api.http.errors import ClientClosedRequest, Forbidden, Unauthorized
from api.wiring import Container


async def get_container(request: Request) -> Container:
    # async: a plain attribute read is not worth a trip through the thread pool.
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_session(request: Request, container: ContainerDep) -> AsyncIterator[Session]:
    """One session per request, committed before the response is sent (``scope="function"``) so a
    failed commit is reported to the client instead of lost after a 2xx.

    The session is opened only once the request holds a slot of the app's :class:`DbGate`, and given
    back on a thread of its own, so a request never holds a connection while it queues for a thread
    that is itself waiting for a connection (api/http/concurrency.py). The transaction mode is set here, on
    the request's task, so every thread that later runs this request's code inherits it.
    """
    mode = TransactionMode(reader=bool(request.scope.get(READER_SCOPE_KEY)))
    use_transaction_mode(mode)
    gate: DbGate = request.app.state.db_gate
    async with gate.slot():
        if await _client_gone(request):
            raise ClientClosedRequest("The client closed the connection before its turn came.")
        session = container.session_factory()
        try:
            yield session
            if session.in_transaction():  # a request served from memory never touched the database
                await in_own_thread(session.commit)
        except BaseException:
            if session.in_transaction():
                await in_own_thread(session.rollback)
            raise
        finally:
            session.close()  # nothing left to release over the wire after commit or rollback
    if mode.wrote:  # a write refused in a reader transaction, even if the code swallowed the error
        raise ReaderWrote("a reader transaction tried to write")


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def _client_gone(request: Request) -> bool:
    """Whether the client disconnected while queued, so a crowd that gave up (a phone that timed out, a
    load generator that stopped) is not served, or charged, after the fact. Asked only when the body is
    already read or there is none, since asking consumes the next message from the client."""
    headers = request.headers
    if not hasattr(request, "_body") and (
        headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    ):
        return False
    # The first message may be the (empty) body nobody read yet; the disconnect, if any, follows it.
    return await request.is_disconnected() or await request.is_disconnected()

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _token_user(container: Container, session: Session, token: str) -> User:
    try:
        claims = container.tokens.decode_access(token)
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


async def get_optional_user(
    container: ContainerDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    # Anonymous readers skip the thread pool; only a token needs the database.
    if credentials is None:
        return None
    return await run_in_threadpool(_token_user, container, session, credentials.credentials)


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
