"""The ``casecal`` command: serve, migrate, demo, emulators and admin commands."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import uvicorn
from rich.console import Console

from casecal.cli_users import app as user_app
from casecal.config import Settings
from casecal.logging import configure_logging
from casecal.store.migrate import upgrade
from casecal.store.private_files import secure_data_dir

app = typer.Typer(help="CaseCal: two-way calendar sync for case-management practices.")
firm_app = typer.Typer(help="Manage firms (tenants).")
app.add_typer(firm_app, name="firm")
app.add_typer(user_app, name="user")
console = Console(stderr=True)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return settings


@app.command()
def migrate() -> None:
    """Bring the database to the latest schema."""
    settings = _settings()
    secure_data_dir(settings)  # the data directory is CaseCal's: 0700 before the database
    with console.status("Migrating the database..."):
        upgrade(settings.database_url)
    console.print(f"[green]Database is up to date[/green] ({_safe_url(settings.database_url)})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate, then serve the API and UI."""
    from casecal.web.app import create_app

    settings = _settings()
    secure_data_dir(settings)
    upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)


@app.command()
def emulators(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
    demo: Annotated[
        bool, typer.Option(help="Seed the demo firm's accounts and run the mail catcher.")
    ] = False,
    casecal_url: Annotated[
        str, typer.Option(help="With --demo: CaseCal's base URL (its OAuth redirect URIs).")
    ] = "http://127.0.0.1:8000",
    smtp_port: Annotated[
        int, typer.Option(help="With --demo: the mail catcher's SMTP port (listed at /mail).")
    ] = 1025,
) -> None:
    """Serve the Google and Microsoft emulators (and their calendar views) on one port."""
    from casecal.emulators.combined import build_emulators

    _settings()
    if demo:
        _serve_demo_emulators(host, port, casecal_url, smtp_port)
        return
    emu = build_emulators()
    console.print(f"Emulators on [bold]http://{host}:{port}/[/bold]")
    console.print(f"  Google    http://{host}:{port}/google    (calendar view: /google/view/)")
    console.print(f"  Microsoft http://{host}:{port}/microsoft (calendar view: /microsoft/view/)")
    uvicorn.run(emu.app, host=host, port=port, log_config=None)


def _serve_demo_emulators(host: str, port: int, casecal_url: str, smtp_port: int) -> None:
    """What ``casecal demo`` runs in its child process: seeded emulators and the mail catcher."""
    from casecal.demo_stack import build_demo_emulators, stop_when_orphaned
    from casecal.mailcatcher import MailCatcher

    stop_when_orphaned()
    catcher = MailCatcher()
    catcher.start(host, smtp_port)
    try:
        emu = build_demo_emulators(casecal_url, catcher)
        uvicorn.run(emu.app, host=host, port=port, log_level="warning")
    finally:
        catcher.stop()


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Sync passes this worker runs at once.")] = 4,
    name: Annotated[
        str | None, typer.Option(help="Name in the run log (default: host-pid).")
    ] = None,
) -> None:
    """Run sync passes from the PostgreSQL job queue (scale-out: any number of workers)."""
    from casecal.sync.worker import run_worker

    settings = _settings()
    if settings.is_sqlite:
        console.print("[red]casecal worker needs PostgreSQL (CASECAL_DATABASE_URL)[/red]")
        raise typer.Exit(2)
    run_worker(settings, concurrency=concurrency, name=name)


@app.command()
def sync(
    connection_id: Annotated[str, typer.Argument(help="The connection to sync.")],
) -> None:
    """Run one sync pass for a connection now, with progress, and print its counts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from casecal.store.db import make_engine, make_sessionmaker
    from casecal.store.tables import Connection
    from casecal.sync.connector import ConnectionProviders
    from casecal.sync.engine import SyncEngine

    settings = _settings()
    try:
        target = uuid.UUID(connection_id)
    except ValueError:
        console.print(f"[red]{connection_id!r} is not a connection id (a UUID)[/red]")
        raise typer.Exit(2) from None

    async def run() -> dict[str, Any]:
        engine = make_engine(settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        try:
            async with sessionmaker() as session:
                row = await session.get(Connection, target)
            if row is None:
                console.print(f"[red]No connection {target}[/red]")
                raise typer.Exit(1)
            async with httpx.AsyncClient(timeout=30) as http:
                providers = ConnectionProviders(settings, sessionmaker, http)
                sync_engine = SyncEngine(sessionmaker, providers, base_url=settings.base_url)
                columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
                with Progress(*columns, console=console, transient=True) as bar:
                    tasks: dict[str, Any] = {}

                    def progress(phase: str, done: int, total: int | None) -> None:
                        if phase not in tasks:
                            label = {"pull": "Remote changes", "push": "Host changes"}[phase]
                            tasks[phase] = bar.add_task(label, total=total)
                        bar.update(tasks[phase], completed=done, total=total)

                    report = await sync_engine.run_pass(
                        row.firm_id, target, trigger="cli", progress=progress
                    )
            return {"run_id": str(report.run_id), "outcome": report.outcome,
                    "counts": report.counts, "error": report.error}  # fmt: skip
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    typer.echo(json.dumps(result, indent=2))
    if result["outcome"] != "ok":
        raise typer.Exit(1)


@firm_app.command("create")
def firm_create(
    name: Annotated[str, typer.Option(help="The firm's name.")],
    admin_email: Annotated[str, typer.Option(help="Email of the firm's first admin.")],
    admin_name: Annotated[str, typer.Option(help="Display name of the admin.")] = "Firm admin",
) -> None:
    """Create a firm with its first admin; prints JSON with the ids and an API token."""
    from casecal.services.firms import create_firm
    from casecal.store.db import make_engine, make_sessionmaker

    settings = _settings()
    upgrade(settings.database_url)

    async def run() -> dict[str, str]:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                created = await create_firm(
                    session, name=name, admin_email=admin_email, admin_name=admin_name
                )
            return {
                "firm_id": str(created.firm_id),
                "admin_user_id": str(created.admin_user_id),
                "api_token": created.token,
            }
        finally:
            await engine.dispose()

    typer.echo(json.dumps(asyncio.run(run()), indent=2))


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for CaseCal.")] = 8000,
    emulator_port: Annotated[int, typer.Option(help="Port for the emulated providers.")] = 8025,
    smtp_port: Annotated[int, typer.Option(help="SMTP port of the demo's mail catcher.")] = 1025,
    data_dir: Annotated[Path, typer.Option(help="Where the demo database lives.")] = Path(
        "data/demo"
    ),
    seed_only: Annotated[bool, typer.Option(help="Seed and print, do not serve.")] = False,
) -> None:
    """Fresh demo database; emulated Google + Microsoft and a mail catcher in a process of
    their own; CaseCal seeded and served as installed, with the URLs, sign-ins and tokens
    printed. Ctrl+C stops both."""
    from casecal.demo import print_demo, seed_demo
    from casecal.demo_stack import (
        DemoAddresses,
        demo_settings,
        emulators_process,
        exit_on_sigterm,
        port_in_use,
    )
    from casecal.web.app import create_app

    addresses = DemoAddresses(port=port, emulator_port=emulator_port, smtp_port=smtp_port)
    busy = [p for p in (port, emulator_port, smtp_port) if not seed_only and port_in_use(p)]
    if busy:
        ports = ", ".join(map(str, busy))
        console.print(f"[red]Port(s) {ports} already in use[/red]: stop what listens there, or "
                      "pick others with --port, --emulator-port and --smtp-port.")  # fmt: skip
        raise typer.Exit(1)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    settings = demo_settings(data_dir, addresses)
    configure_logging(json=False, level="WARNING")
    with ExitStack() as running:
        if not seed_only:
            with console.status("Starting the emulated Google and Microsoft 365..."):
                running.enter_context(emulators_process(addresses))
        with console.status("Creating the demo database..."):
            upgrade(settings.database_url)
            seeded = asyncio.run(seed_demo(settings))
        print_demo(console, settings, seeded, addresses=addresses)
        if seed_only:
            return
        console.print("[green]Serving.[/green] Ctrl+C stops the demo.")
        exit_on_sigterm()
        uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def _safe_url(url: str) -> str:
    """The database URL without a password, for printing."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
