"""``/auth``: register, login, refresh, logout, profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from accounts.models import Role
from api.client_ip import client_address
from api.http.deps import ContainerDep, CurrentUser, SessionDep
from api.http.schemas.accounts import LoginIn, ProfileIn, RefreshIn, RegisterIn, TokenOut, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(body: RegisterIn, container: ContainerDep, session: SessionDep) -> object:
    return container.accounts.register(
        session, email=body.email, username=body.username, password=body.password,
        role=Role(body.role), display_name=body.display_name,
    )


def get_client_ip(request: Request, container: ContainerDep) -> str | None:
    """The client's address as docs/accounts.md defines it: the socket peer, or what trusted proxies
    say it is."""
    return client_address(
        request.client.host if request.client else None,
        ",".join(request.headers.getlist("x-forwarded-for")),
        container.settings.trusted_proxy_networks,
    )


ClientIp = Annotated[str | None, Depends(get_client_ip)]


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, ip: ClientIp, container: ContainerDep, session: SessionDep) -> object:
    return container.accounts.login(session, identifier=body.identifier, password=body.password, ip=ip)


@router.post("/refresh", response_model=TokenOut)
def refresh(body: RefreshIn, container: ContainerDep, session: SessionDep) -> object:
    return container.accounts.refresh(session, refresh_token=body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshIn, container: ContainerDep, session: SessionDep) -> None:
    container.accounts.logout(session, refresh_token=body.refresh_token)


@router.get("/profile", response_model=UserOut)
def get_profile(user: CurrentUser) -> object:
    return user


@router.put("/profile", response_model=UserOut)
def put_profile(body: ProfileIn, user: CurrentUser, session: SessionDep) -> object:
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    session.flush()
    return user
