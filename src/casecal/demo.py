"""The demo firm: seeded through CaseCal's own REST API (in-process), so the demo data passes
exactly the validation a real client's data would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from asgi_lifespan import LifespanManager
from rich.console import Console
from sqlalchemy import select

from casecal.auth.passwords import hash_password
from casecal.config import Settings
from casecal.demo_stack import SSO_CLIENT, SSO_DOMAIN, SSO_PEOPLE, SSO_TENANT, DemoAddresses
from casecal.domain.connect_prompt import ASK_TO_CONNECT, SEAT_AT_PROVISIONING
from casecal.domain.settings_catalog import Level
from casecal.domain.sso import SsoKind
from casecal.services.access import Actor
from casecal.services.firm_settings import Scope, set_value
from casecal.services.firms import create_firm
from casecal.services.sso import SsoInput, save_config
from casecal.services.subscriptions import activate_subscription, request_subscription
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.tables import Role, User
from casecal.web.app import create_app

FIRM_NAME = "Rivera & Okafor Immigration Law"
ADMIN = ("admin@rivera-okafor.example", "Dana Rivera")
MANAGERS = [
    ("maria.lopez@rivera-okafor.example", "Maria Lopez"),
    ("james.okafor@rivera-okafor.example", "James Okafor"),
    ("priya.shah@rivera-okafor.example", "Priya Shah"),
]
CASES = [
    ("IMM-2026-0141", "Ana Gutierrez", "Asylum (I-589)", "A123-456-789", [0]),
    ("IMM-2026-0188", "Wei Chen", "Adjustment of Status (I-485)", "A234-567-890", [1]),
    ("IMM-2026-0203", "Olusegun Adeyemi", "Removal Defense", "A345-678-901", [1, 2]),
]
ZONE = "America/New_York"
SSO_FIRM_NAME = "Northwind Legal"
DEMO_PASSWORD = "casecal-demo"  # noqa: S105 - the printed, well-known demo sign-in
HOLIDAYS = frozenset({(1, 1), (6, 19), (7, 4), (11, 11), (12, 25), (12, 26)})
"""Days (month, day) no firm books a hearing, an interview or a review on: the demo reads as
a real office's calendar."""


def working_day(day: date, step: int = 1) -> date:
    """``day`` if it is a working day, else the next one (``step=-1``: the one before)."""
    while day.weekday() >= 5 or (day.month, day.day) in HOLIDAYS:
        day += timedelta(days=step)
    return day


@dataclass
class SeededDemo:
    firm_id: str
    admin_token: str
    users: list[dict[str, Any]] = field(default_factory=list)
    """Each: email, name, role, id, token."""
    counts: dict[str, int] = field(default_factory=dict)
    sso_firm_id: str = ""
    """The second demo firm: single sign-on through the emulated Entra ID, the connect prompt
    on."""


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), ZoneInfo(ZONE)).isoformat()


async def _post(client: httpx.AsyncClient, token: str, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code >= 400:
        raise RuntimeError(f"seeding {path} failed: {response.status_code} {response.text}")
    return response.json() if response.content else None


async def seed_demo(settings: Settings, today: date | None = None) -> SeededDemo:
    """Create the demo firm with an admin, three case managers, cases and entries of every kind."""
    today = today or datetime.now(UTC).date()
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            created = await create_firm(
                session, name=FIRM_NAME, admin_email=ADMIN[0], admin_name=ADMIN[1], time_zone=ZONE
            )
    finally:
        await engine.dispose()
    seeded = SeededDemo(firm_id=str(created.firm_id), admin_token=created.token)
    seeded.users.append(
        {"email": ADMIN[0], "name": ADMIN[1], "role": "firm_admin", "token": created.token}
    )
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://demo/api/v1"
        ) as client,
    ):
        await _seed_through_api(client, seeded, today)
    seeded.sso_firm_id = await seed_sso_firm(settings)
    await _set_passwords(settings)
    return seeded


async def seed_sso_firm(settings: Settings) -> str:
    """Northwind Legal signs in through its Entra ID tenant (``demo_stack.SSO_TENANT``): a
    newcomer of its domain gets an account and a seat at their first sign-in and is asked to
    connect their calendar (``sso.ask_to_connect``, locked for the firm). Its firm admin also
    has the demo password. Returns the firm's id."""
    (admin_email, admin_name), *_ = SSO_PEOPLE
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            made = await create_firm(session, name=SSO_FIRM_NAME, admin_email=admin_email,
                                     admin_name=admin_name, time_zone=ZONE)  # fmt: skip
            admin = Actor(made.admin_user_id, made.firm_id, Role.FIRM_ADMIN)
            await request_subscription(session, admin)
            await activate_subscription(session, admin)
            firm = Scope(Level.FIRM, made.firm_id)
            await set_value(session, admin, firm, ASK_TO_CONNECT, True, locked=True)
            await set_value(session, admin, firm, SEAT_AT_PROVISIONING, True, locked=False)
            given = SsoInput(kind=SsoKind.ENTRA.value, client_id=SSO_CLIENT[0],
                             client_secret=SSO_CLIENT[1], tenants=SSO_TENANT, domains=SSO_DOMAIN,
                             enabled=True, allow_provisioning=True)  # fmt: skip
            await save_config(session, settings, admin, given)
    finally:
        await engine.dispose()
    return str(made.firm_id)


async def _set_passwords(settings: Settings) -> None:
    """Every demo user signs in to the web UI with the same demo password."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            hashed = hash_password(DEMO_PASSWORD)
            for user in await session.scalars(select(User)):
                user.password_hash = hashed
    finally:
        await engine.dispose()


async def _seed_through_api(client: httpx.AsyncClient, seeded: SeededDemo, today: date) -> None:
    admin = seeded.admin_token
    await _post(client, admin, "/subscription", {})
    await _post(client, admin, "/subscription/activate", {})
    manager_ids: list[str] = []
    for email, name in MANAGERS:
        user = await _post(client, admin, "/users", {"email": email, "name": name,
                                                      "role": "case_manager"})  # fmt: skip
        token = await _post(client, admin, f"/users/{user['id']}/tokens", {"name": "demo"})
        await _post(client, admin, "/subscription/seats", {"user_id": user["id"]})
        manager_ids.append(user["id"])
        seeded.users.append({"email": email, "name": name, "role": "case_manager",
                             "id": user["id"], "token": token["token"]})  # fmt: skip
    counts = {"cases": 0, "appointments": 0, "court_dates": 0, "interviews": 0,
              "step_reminders": 0}  # fmt: skip
    for index, (number, beneficiary, case_type, a_number, managers) in enumerate(CASES):
        case = await _post(client, admin, "/cases", {
            "number": number, "beneficiary": beneficiary, "case_type": case_type,
            "a_number": a_number, "manager_ids": [manager_ids[m] for m in managers],
        })  # fmt: skip
        counts["cases"] += 1
        day = working_day(today + timedelta(days=7 + 5 * index))
        await _post(client, admin, "/court-dates", {
            "case_id": case["id"], "hearing_type": "Master Calendar Hearing",
            "court_name": "New York Immigration Court",
            "court_address": "26 Federal Plaza, 12th Floor, New York, NY 10278",
            "judge": "Hon. R. Whitfield", "courtroom": "12B", "start_at": _at(day, 9, 30),
            "time_zone": ZONE, "notes": "Bring the original I-94 and passport.",
        })  # fmt: skip
        counts["court_dates"] += 1
        await _post(client, admin, "/interviews", {
            "case_id": case["id"], "interview_type": "Asylum interview",
            "office_name": "USCIS New York Asylum Office",
            "office_address": "1065 Stewart Ave, Bethpage, NY 11714",
            "officer": "Officer M. Daley", "documents": "Passport, I-589 copy, evidence binder",
            "start_at": _at(working_day(day + timedelta(days=14)), 13), "time_zone": ZONE,
        })  # fmt: skip
        counts["interviews"] += 1
        await _post(client, admin, "/step-reminders", {
            "case_id": case["id"], "step_name": "File evidence packet",
            "due_date": working_day(day - timedelta(days=3), -1).isoformat(),
            "notes": "Evidence due 3 days before the hearing.",
        })  # fmt: skip
        counts["step_reminders"] += 1
    consultation = working_day(today + timedelta(days=2))
    review = working_day(today + timedelta(days=1))
    away = working_day(today + timedelta(days=20))
    for manager, (email, _name) in zip(seeded.users[1:], MANAGERS, strict=True):
        token = manager["token"]
        await _post(client, token, "/appointments", {
            "title": "Client consultation", "location": "Office, room 3",
            "start_at": _at(consultation, 10), "end_at": _at(consultation, 11),
            "time_zone": ZONE, "attendees": [{"email": "client@example.com", "name": "Client"}],
            "reminder_minutes": 15,
        })  # fmt: skip
        await _post(client, token, "/appointments", {
            "title": "Weekly case review", "start_at": _at(review, 16),
            "end_at": _at(review, 17), "time_zone": ZONE,
            "rrule": "FREQ=WEEKLY;COUNT=10",
        })  # fmt: skip
        await _post(client, token, "/appointments", {
            "title": f"Out of office ({email.split('@')[0]})", "all_day": True,
            "start_date": away.isoformat(),
            "end_date": (away + timedelta(days=2)).isoformat(), "time_zone": ZONE,
            "show_as": "free",
        })  # fmt: skip
        counts["appointments"] += 3
    seeded.counts = counts


def print_demo(
    console: Console,
    settings: Settings,
    seeded: SeededDemo,
    *,
    addresses: DemoAddresses | None = None,
) -> None:
    """The URLs, the sign-ins and a walk-through, printed whole so they can be copied."""
    base = settings.base_url

    def say(text: str) -> None:
        console.print(text, soft_wrap=True)

    say(f"\n[bold]CaseCal demo[/bold] - firm [cyan]{FIRM_NAME}[/cyan]")
    say(f"  Web UI    {base}/login   (every user's password: [bold]{DEMO_PASSWORD}[/bold])")
    say(f"  API       {base}/api/v1   (docs: {base}/api/docs)")
    if addresses is not None:
        emulators_url = addresses.emulators_url
        say(f"  Outlook   {emulators_url}/microsoft/view/   (emulated Microsoft 365)")
        say(f"  Google    {emulators_url}/google/view/      (emulated Google Calendar)")
        say(f"  Mail      {addresses.mail_url}   (what CaseCal sent; SMTP on port "
            f"{addresses.smtp_port})")  # fmt: skip
    say("  Seeded    " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in seeded.counts.items()))
    say("\n[bold]Users and their API tokens[/bold] (only the tokens' hashes are stored):")
    for user in seeded.users:
        say(f"  {user['role']:<13} {user['name']:<13} {user['email']:<36} {user['token']}")
    if addresses is not None:
        say("\n[bold]Try the whole flow[/bold] (Microsoft 365 here requires admin consent):")
        say(f"  1. Sign in as {MANAGERS[0][0]}, open Calendar Sync, Connect Microsoft 365:")
        say("     the tenant asks for admin approval; CaseCal shows what to send to IT.")
        say(f"  2. Sign in as {ADMIN[0]} (the tenant's admin): Calendar Sync shows the consent")
        say("     panel; grant consent. Maria is told she can finish (see the Mail page).")
        say("  3. As Maria again: Modify, pick the calendar, opt in to step reminders, Submit.")
        say("     Her court dates and interviews appear in the emulated Outlook calendar.")
        say(f"  4. Sign in as {MANAGERS[2][0]} and use Sign in with Google the same way.")
        say("  5. Change an event in an emulated calendar: it reaches CaseCal's Calendar page")
        say("     on its own within seconds (the providers' push notifications).")
        print_sso_demo(say, base)
    say(f"\nAPI:  curl -H 'Authorization: Bearer {seeded.admin_token}' {base}/api/v1/court-dates\n")


def print_sso_demo(say: Callable[[str], None], base: str) -> None:
    """How to sign in to the SSO demo firm and meet the connect prompt."""
    (admin_email, _), (newcomer, _), (other, _) = SSO_PEOPLE
    say(f"\n[bold]Single sign-on[/bold] - firm [cyan]{SSO_FIRM_NAME}[/cyan] signs in through "
        "the emulated Entra ID:")  # fmt: skip
    say(f'  1. Open {base}/login; under "Sign in with your firm\'s account" type')
    say(f"     {newcomer} and continue; on the emulated Microsoft sign-in, Accept.")
    say("  2. CaseCal creates Sam's account with a seat and asks him to Connect Microsoft 365")
    say("     (the firm turned the connect prompt on and locked it). Connect, pick the calendar.")
    say(f'  3. Or sign in as {other} and answer "Not now": Calendar Sync says why.')
    say(f"  The firm admin {admin_email} (demo password) sees it in Firm settings and")
    say("  Single sign-on.")
