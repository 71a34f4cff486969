"""Browser sessions: the accounts service's own tokens, kept in an encrypted HttpOnly cookie, and the
CSRF token every form carries.

Login through a page issues exactly the access and refresh tokens ``POST /auth/login`` issues, with the
same throttling. The pair is sealed (AES-GCM, key derived from the JWT secret) into one cookie, so script
on the page cannot read it (HttpOnly), a copy of the cookie jar does not show the raw refresh token, and
a cookie altered by hand is simply no session. When the access token has expired, the refresh token is
rotated transparently (the accounts service's rotation with reuse detection) and the new pair written
back. Logout revokes the login's refresh family, which also ends its access tokens at once.

CSRF: a random value in its own HttpOnly cookie; forms carry ``HMAC(key, value)``; every unsafe method
of a page route is refused unless the two agree (checked by the page route class, ``pages.PageRoute``).
SameSite=Lax on both cookies is the second line.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session
from starlette.requests import Request

from api.web.core import Container, NotAuthenticated, TokenError, User

log = logging.getLogger("legato.web")

SESSION_COOKIE = "legato_session"
CSRF_COOKIE = "legato_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_MAX_COOKIE = 4096


def _key(container: Container, purpose: bytes) -> bytes:
    return hmac.new(container.jwt_secret, b"legato-web/" + purpose, hashlib.sha256).digest()


def seal(container: Container, access_token: str, refresh_token: str) -> str:
    nonce = os.urandom(12)
    data = json.dumps({"a": access_token, "r": refresh_token}, separators=(",", ":")).encode()
    box = AESGCM(_key(container, b"session")).encrypt(nonce, data, SESSION_COOKIE.encode())
    return base64.urlsafe_b64encode(nonce + box).decode().rstrip("=")


def unseal(container: Container, value: str | None) -> tuple[str, str] | None:
    if not value or len(value) > _MAX_COOKIE:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        data = AESGCM(_key(container, b"session")).decrypt(raw[:12], raw[12:], SESSION_COOKIE.encode())
        pair = json.loads(data)
        return str(pair["a"]), str(pair["r"])
    except (ValueError, InvalidTag, KeyError, TypeError):
        return None


@dataclass
class CookieJar:
    """Cookies a page sets or clears, applied to whatever response the page returns."""

    items: list[tuple[str, str | None, int | None, bool]] = field(default_factory=list)

    def set(self, name: str, value: str, *, max_age: int | None = None, http_only: bool = True) -> None:
        self.items.append((name, value, max_age, http_only))

    def clear(self, name: str) -> None:
        self.items.append((name, None, None, True))

    def apply(self, response: object, secure: bool) -> None:
        for name, value, max_age, http_only in self.items:
            if value is None:
                response.delete_cookie(name, path="/", secure=secure, httponly=True,  # type: ignore[attr-defined]
                                       samesite="lax")
            else:
                response.set_cookie(name, value, max_age=max_age, path="/", secure=secure,  # type: ignore[attr-defined]
                                    httponly=http_only, samesite="lax")


def jar(request: Request) -> CookieJar:
    found = getattr(request.state, "web_cookies", None)
    if found is None:
        found = request.state.web_cookies = CookieJar()
    return found


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


# --- CSRF ----------------------------------------------------------------------------------------
def csrf_token(container: Container, request: Request) -> str:
    """The token to put in this page's forms, creating the browser's CSRF cookie on first sight."""
    value = getattr(request.state, "csrf_value", None) or request.cookies.get(CSRF_COOKIE)
    if not value or len(value) > 100:
        value = secrets.token_urlsafe(32)
        jar(request).set(CSRF_COOKIE, value, max_age=365 * 24 * 3600)
    request.state.csrf_value = value
    return hmac.new(_key(container, b"csrf"), value.encode(), hashlib.sha256).hexdigest()


def csrf_ok(container: Container, request: Request, submitted: str | None) -> bool:
    value = request.cookies.get(CSRF_COOKIE)
    if not value or not submitted or len(value) > 100 or len(submitted) > 100:
        return False
    expected = hmac.new(_key(container, b"csrf"), value.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, submitted)


# --- who is asking ---------------------------------------------------------------------------------
def _user_for(container: Container, session: Session, access_token: str) -> User | None:
    """The same checks as a bearer token on the JSON API: valid, account active, login not ended."""
    claims = container.tokens.decode_access(access_token)  # TokenError passes up
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        return None
    if claims.session_id is not None and not container.accounts.session_alive(
        session, user_id=user.id, family_id=claims.session_id
    ):
        return None
    return user


def current_user(container: Container, session: Session, request: Request) -> User | None:
    """The signed-in user, refreshing an expired access token once; a session that cannot be
    recovered is cleared so the browser stops sending it."""
    pair = unseal(container, request.cookies.get(SESSION_COOKIE))
    if pair is None:
        if SESSION_COOKIE in request.cookies:
            jar(request).clear(SESSION_COOKIE)
        return None
    access_token, refresh_token = pair
    try:
        user = _user_for(container, session, access_token)
    except TokenError:
        renewed = _refresh(container, session, refresh_token)
        if renewed is None:
            jar(request).clear(SESSION_COOKIE)
            return None
        start(container, request, *renewed)
        user = _user_for(container, session, renewed[0])
    if user is None:
        jar(request).clear(SESSION_COOKIE)
    return user


# A browser sends several requests at once (a page, its script's progress call, the service worker's
# refresh of a saved chapter). When the access token has expired they all carry the same refresh token,
# and presenting a rotated refresh token again is, to the accounts service, theft: it revokes the login.
# So one process rotates a given token once and hands the new pair to the others for a short while.
_ROTATED: dict[str, tuple[float, tuple[str, str]]] = {}
_ROTATING = threading.Lock()
_ROTATED_FOR = 60.0


def _refresh(container: Container, session: Session, refresh_token: str) -> tuple[str, str] | None:
    key = hashlib.sha256(refresh_token.encode()).hexdigest()
    with _ROTATING:
        now = time.monotonic()
        for old in [k for k, (at, _) in _ROTATED.items() if now - at > _ROTATED_FOR]:
            del _ROTATED[old]
        if key in _ROTATED:
            return _ROTATED[key][1]
        try:
            tokens = container.accounts.refresh(session, refresh_token=refresh_token)
        except NotAuthenticated:
            return None
        # Durable now, whatever the rest of the request does: the cookie is about to name the new pair.
        session.commit()
        pair = (tokens.access_token, tokens.refresh_token)
        _ROTATED[key] = (now, pair)
        return pair


def start(container: Container, request: Request, access_token: str, refresh_token: str) -> None:
    jar(request).set(SESSION_COOKIE, seal(container, access_token, refresh_token),
                     max_age=container.settings.refresh_token_ttl_seconds)


def end(container: Container, session: Session, request: Request) -> None:
    """Logout: revoke the login (refresh family) server-side, then drop the cookie."""
    pair = unseal(container, request.cookies.get(SESSION_COOKIE))
    if pair is not None:
        with contextlib.suppress(NotAuthenticated):  # already revoked or unknown: the cookie goes anyway
            container.accounts.logout(session, refresh_token=pair[1])
    jar(request).clear(SESSION_COOKIE)

