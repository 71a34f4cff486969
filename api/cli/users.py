"""``legato users``: accounts that cannot be made over HTTP (admins)."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from accounts.errors import AccountsError
from accounts.models import Role
from api.cli.base import app, err, open_container, out
from api.db import session_scope
from api.http.schemas.accounts import RegisterIn

users_app = typer.Typer(no_args_is_help=True, help="User accounts.")
app.add_typer(users_app, name="users")


@users_app.command("create-admin")
def create_admin(
    email: str = typer.Option(..., help="Admin e-mail."),
    username: str = typer.Option(..., help="Admin username."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create an administrator account."""
    try:
        body = RegisterIn(email=email, username=username, password=password, role="reader")
    except ValidationError as e:
        err.print(f"[red]invalid:[/red] {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}")
        raise typer.Exit(2) from e
    with open_container() as container, session_scope(container.session_factory) as session:
        try:
            user = container.accounts.register(
                session, email=body.email, username=body.username, password=body.password, role=Role.admin
            )
        except AccountsError as e:
            err.print(f"[red]refused:[/red] {e.message}")
            raise typer.Exit(1) from e
        out.print(f"admin {user.username} created ({user.id})", highlight=False)
