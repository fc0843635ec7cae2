"""``casecal user``: local sign-in accounts, e.g. an admin resetting a user's password."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select

from casecal.auth.passwords import MIN_LENGTH, hash_password
from casecal.config import Settings
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.tables import Firm, User, WebSession

app = typer.Typer(help="Manage local sign-in accounts.")
console = Console(stderr=True)


@app.callback()
def users() -> None:
    """Manage local sign-in accounts."""


async def set_password(
    settings: Settings, email: str, password: str, firm: str | None = None
) -> bool:
    """Store the new hash and end the user's browser sessions; False when there is no such user.
    An email of people in several firms needs ``firm`` (the firm's id or name)."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            query = select(User).where(func.lower(User.email) == email.strip().lower())
            if firm:
                query = query.join(Firm, Firm.id == User.firm_id).where(
                    Firm.name == firm if not _is_uuid(firm) else Firm.id == uuid.UUID(firm)
                )
            found = list(await session.scalars(query))
            if len(found) > 1:
                raise typer.BadParameter(
                    f"{email} belongs to people of {len(found)} firms: name one with --firm"
                )
            if not found:
                return False
            user = found[0]
            user.password_hash = hash_password(password)
            for web in await session.scalars(
                select(WebSession).where(WebSession.user_id == user.id)
            ):
                await session.delete(web)
            await session.commit()
            return True
    finally:
        await engine.dispose()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@app.command("set-password")
def set_password_command(
    email: Annotated[str, typer.Option("--email", help="The user's email address.")],
    password: Annotated[
        str | None,
        typer.Option("--password", help="The new password; prompted for (hidden) when omitted."),
    ] = None,
    firm: Annotated[
        str | None,
        typer.Option("--firm", help="The firm's id or name, when the email is in several firms."),
    ] = None,
) -> None:
    """Set (or reset) a user's password. Their open browser sessions are signed out."""
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_LENGTH:
        console.print(f"[red]A password needs at least {MIN_LENGTH} characters.[/red]")
        raise typer.Exit(2)
    if not asyncio.run(set_password(Settings(), email, password, firm)):
        console.print(f"[red]No user with email {email}.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]Password set for {email}.[/green]")
