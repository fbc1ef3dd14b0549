"""`telecare users`: console accounts and API tokens."""

from __future__ import annotations

import click
from sqlalchemy import select

from telecare import users as user_service
from telecare.actor import Actor
from telecare.db import session_scope
from telecare.errors import ValidationFailed
from telecare.models import Role, User


@click.group()
def users() -> None:
    """Console users and API tokens."""


@users.command()
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value,
              show_default=True)
@click.option("--name", "display_name", default="", help="Full name shown in the console.")
@click.option("--language", default="it", show_default=True)
@click.password_option(help="At least 12 characters; asked for when not given.")
@click.pass_obj
def create(runtime, username, role, display_name, language, password) -> None:
    """Create a user (the first admin, typically)."""
    try:
        with session_scope(runtime.sessions) as session:
            user = user_service.create_user(session, username, display_name, role, password,
                                            Actor.cli(), runtime.clock.now(), language)
            click.echo(f"created {user.role.value} {user.username}")
    except ValidationFailed as exc:
        raise click.ClickException(str(exc)) from None


@users.command()
@click.argument("username")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@click.pass_obj
def token(runtime, username, name) -> None:
    """Issue an API bearer token for USERNAME (shown once)."""
    with session_scope(runtime.sessions) as session:
        user = session.scalars(select(User).where(User.username == username.lower())).first()
        if user is None:
            raise click.ClickException(f"username: no user {username!r}")
        _, secret = user_service.create_token(session, user, name, Actor.cli(),
                                              runtime.clock.now())
    click.echo(secret)


@users.command("list")
@click.pass_obj
def list_(runtime) -> None:
    """List users and their roles."""
    with session_scope(runtime.sessions) as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "" if user.active else " (disabled)"
            click.echo(f"{user.username:20} {user.role.value:14} {user.display_name}{state}")
