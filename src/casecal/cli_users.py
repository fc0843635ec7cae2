"""``casecal user``: local sign-in accounts, e.g. an admin resetting a user's password."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import func, select

from casecal.auth.passwords import MIN_LENGTH, hash_password
from casecal.config import Settings
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.tables import User, WebSession

app = typer.Typer(help="Manage local sign-in accounts.")
console = Console(stderr=True)


@app.callback()
def users() -> None:
    """Manage local sign-in accounts."""


async def set_password(settings: Settings, email: str, password: str) -> bool:
    """Store the new hash and end the user's browser sessions; False when there is no such user."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            user = await session.scalar(
                select(User).where(func.lower(User.email) == email.strip().lower())
            )
            if user is None:
                return False
            user.password_hash = hash_password(password)
            for web in await session.scalars(
                select(WebSession).where(WebSession.user_id == user.id)
            ):
                await session.delete(web)
            await session.commit()
            return True
    finally:
        await engine.dispose()


@app.command("set-password")
def set_password_command(
    email: Annotated[str, typer.Option("--email", help="The user's email address.")],
    password: Annotated[
        str | None,
        typer.Option("--password", help="The new password; prompted for (hidden) when omitted."),
    ] = None,
) -> None:
    """Set (or reset) a user's password. Their open browser sessions are signed out."""
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_LENGTH:
        console.print(f"[red]A password needs at least {MIN_LENGTH} characters.[/red]")
        raise typer.Exit(2)
    if not asyncio.run(set_password(Settings(), email, password)):
        console.print(f"[red]No user with email {email}.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]Password set for {email}.[/green]")
