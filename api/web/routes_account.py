"""``/login``, ``/signup``, ``/logout`` and ``/settings``: the accounts service behind forms.

Signup takes the JSON API's fields (``email``, ``username``, ``password``, ``role``) and the same
validation (its schema); login goes through ``Accounts.login`` with the client address worked out as
the API does, so the throttling is the same counter whichever door a guess comes through.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from api.web import i18n, session
from api.web.core import (
    AlreadyRegistered,
    LoginThrottled,
    NotAuthenticated,
    ProfileIn,
    RegisterIn,
    Role,
    client_address,
)
from api.web.pages import PageRoute, Posted, Web, WebDep, field

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ROLES = ("reader", "writer", "studio")


def _next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 500:
        return "/"
    return value


def _ip(web: Web) -> str | None:
    request = web.request
    return client_address(request.client.host if request.client else None,
                          ",".join(request.headers.getlist("x-forwarded-for")),
                          web.container.settings.trusted_proxy_networks)


@router.get("/login")
def login_page(web: WebDep, next: str | None = None) -> Response:
    if web.user is not None:
        return web.redirect(_next(next))
    return web.render("login.html", next=_next(next), identifier="", error=None)


@router.post("/login")
def login(request: Request, data: Posted, web: WebDep) -> Response:
    identifier, password = field(data, "email", max_chars=320), field(data, "password", max_chars=256)
    target = _next(field(data, "next", max_chars=500))
    if not identifier or not password:
        return web.render("login.html", 400, next=target, identifier=identifier,
                          error=web._("Enter your email or username and your password."))
    try:
        tokens = web.container.accounts.login(web.db, identifier=identifier, password=password, ip=_ip(web))
    except NotAuthenticated:
        return web.render("login.html", 401, next=target, identifier=identifier,
                          error=web._("Wrong email, username or password."))
    except LoginThrottled as e:
        response = web.render("login.html", 429, next=target, identifier=identifier,
                              error=web._("Too many failed logins. Try again later."))
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    session.start(web.container, request, tokens.access_token, tokens.refresh_token)
    return web.redirect(target)


@router.get("/signup")
def signup_page(web: WebDep) -> Response:
    return web.render("signup.html", values={"role": "reader"}, errors={}, roles=ROLES)


@router.post("/signup")
def signup(request: Request, data: Posted, web: WebDep) -> Response:
    values = {name: field(data, name, max_chars=320) for name in ("email", "username", "role")}
    password = field(data, "password", max_chars=256)
    try:
        body = RegisterIn(**values, password=password)
    except ValidationError as e:
        errors = {str(err["loc"][0]): _field_message(web, str(err["loc"][0])) for err in e.errors()
                  if err.get("loc")}
        return web.render("signup.html", 422, values=values, errors=errors, roles=ROLES)
    try:
        web.container.accounts.register(web.db, email=body.email, username=body.username,
                                        password=body.password, role=Role(body.role))
    except AlreadyRegistered as e:
        taken = str(e.details.get("field", "email"))
        return web.render("signup.html", 409, values=values, roles=ROLES,
                          errors={taken: web._("This is already registered.")})
    tokens = web.container.accounts.login(web.db, identifier=body.username, password=password, ip=_ip(web))
    session.start(web.container, request, tokens.access_token, tokens.refresh_token)
    return web.redirect("/")


def _field_message(web: Web, name: str) -> str:
    return {
        "email": web._("Enter a valid email address."),
        "username": web._("3 to 40 letters, digits, dots, dashes or underscores."),
        "password": web._("At least 8 characters."),
        "role": web._("Choose reader, writer or studio."),
    }.get(name, web._("This value is not valid."))


@router.get("/logout")
def logout_page(web: WebDep) -> Response:
    return web.render("logout.html")


@router.post("/logout")
def logout(request: Request, web: WebDep) -> Response:
    session.end(web.container, web.db, request)
    response = web.redirect("/?signed_out=1")
    # Chapters saved for offline reading belong to this account: the browser drops them (and the
    # service worker's caches) now; the page's script does the same where this header is unknown.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@router.get("/settings")
def settings_page(web: WebDep, saved: int = 0) -> Response:
    return web.render("settings.html", saved=bool(saved), errors={})


@router.post("/settings")
def save_settings(request: Request, data: Posted, web: WebDep) -> Response:
    """Profile (signed in) and interface language (anyone: a cookie; signed in: also the profile)."""
    lang = i18n.supported(field(data, "language", max_chars=35))
    if lang:
        session.jar(request).set(i18n.COOKIE, lang, max_age=365 * 24 * 3600, http_only=False)
    if web.user is not None and data.get("profile") == "1":
        try:
            profile = ProfileIn(display_name=field(data, "display_name", max_chars=100) or None,
                                bio=field(data, "bio", max_chars=5000) or None,
                                preferred_language=lang or web.user.preferred_language)
        except ValidationError:
            return web.render("settings.html", 422, saved=False,
                              errors={"profile": web._("Some of the values sent are not valid.")})
        for name in ("display_name", "bio", "preferred_language"):
            setattr(web.user, name, getattr(profile, name))
        web.db.flush()
    back = _next(field(data, "next", max_chars=500)) if data.get("next") else "/settings?saved=1"
    return web.redirect(back)
