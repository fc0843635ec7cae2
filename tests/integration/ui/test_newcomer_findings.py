"""What a newcomer stumbled on in the last walk-through, each fixed where it shows: Request
approval stays reachable while consent is awaited, one wording for a sync that never ran,
backfill choices that say what they do, a plain navigation label, attendees kept on edit and
shown, and a saved court date naming whose calendar it went to."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, post_form, sign_in, signed_in_page

from casecal.services.appointments import create_appointment
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import (
    Appointment,
    Connection,
    ConnectionStatus,
    ProviderName,
    Role,
    TenantConsent,
)
from casecal.web.ui.connect_routes import BACKFILL_CHOICES

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _seat_and_connection(
    sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm, status: ConnectionStatus
) -> uuid.UUID:
    admin = firm.actor(firm.admin, Role.FIRM_ADMIN)
    conn_id = uuid.uuid4()
    async with sessionmaker() as session:
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, firm.cm1.id)
        session.add(
            Connection(id=conn_id, firm_id=firm.id, user_id=firm.cm1.id,
                       provider=ProviderName.MICROSOFT, status=status,
                       tenant_id="contoso-tenant", status_reason="waiting")
        )  # fmt: skip
        session.add(TenantConsent(firm_id=firm.id, tenant_id="contoso-tenant"))
        await session.commit()
    return conn_id


async def test_awaiting_consent_offers_request_approval_again(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Back on Calendar Sync after leaving the Approval required page, the case manager can
    still ask the firm admins (b)."""
    conn_id = await _seat_and_connection(sessionmaker, ui_firm, ConnectionStatus.AWAITING_CONSENT)
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar-sync")
    action = f"/calendar-sync/connections/{conn_id}/request-approval"
    assert f'action="{action}"' in page.text
    assert ">Request approval</button>" in page.text
    asked = await post_form(client, page, action)
    assert asked.status_code == 303, asked.text
    assert asked.headers["location"] == "/calendar-sync?done=approval-requested"


async def test_last_sync_reads_never_for_everyone_who_has_not_synced(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """cm1 has a connection that never synced, cm2 has none: both rows say "never" (e)."""
    await _seat_and_connection(sessionmaker, ui_firm, ConnectionStatus.PENDING)
    page = await signed_in_page(client, ui_firm.admin.email, "/calendar-sync")
    rows = page.text.split('id="seats-title"')[1].split("</tbody>")[0].split("<tr>")[1:]
    last_sync = [r.split("<td>")[3].split("</td>")[0].strip() for r in rows if "<td>" in r]
    assert len(last_sync) == 2, rows
    assert last_sync == ["never", "never"]


def test_backfill_choices_say_what_they_do() -> None:
    """No "Upcoming entries too"/"last 30 days" riddle: what is copied, which way (f)."""
    (_, copy_label, copy_help), (_, only_label, only_help) = BACKFILL_CHOICES
    assert copy_label == "Existing entries as well"
    assert "copies the entries you already have into this calendar" in copy_help
    assert "30 days ago onwards" in copy_help
    assert "imports the events already in it" in copy_help
    assert only_label == "New and changed entries only"
    assert "Nothing already there is copied" in only_help


async def test_navigation_says_calendar_sync(client: httpx.AsyncClient, ui_firm: UiFirm) -> None:
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar")
    nav = page.text.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert '<a href="/calendar-sync">Calendar Sync</a>' in nav  # (g)
    assert "Setup" not in nav


async def test_notices_are_cleaned_from_the_address_by_a_page_script(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    """Every page loads the script that drops ?done=/?flash= once shown (d; the browser
    test ``test_a_notice_does_not_come_back_on_reload`` shows it working)."""
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar-sync?done=synced")
    assert "Sync finished." in page.text
    assert '<script src="/static/notices.js" defer></script>' in page.text
    script = await client.get("/static/notices.js")
    assert script.status_code == 200
    assert "history.replaceState" in script.text


async def test_editing_an_appointment_keeps_its_attendees_and_shows_them(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The form has no attendee field: saving it must not clear them (i)."""
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    people = [{"email": "client@example.com", "name": "Ana Diaz"},
              {"email": "interpreter@example.com", "name": ""}]  # fmt: skip
    async with sessionmaker() as session:
        row = await create_appointment(session, cm1, {
            "title": "Consultation", "start_at": datetime(2026, 3, 10, 14, tzinfo=UTC),
            "end_at": datetime(2026, 3, 10, 15, tzinfo=UTC), "attendees": people,
        })  # fmt: skip
        row_id = row.id
    path = f"/entries/appointment/{row_id}"
    shown = await signed_in_page(client, ui_firm.cm1.email, path)
    assert "<dt>Attendees</dt>" in shown.text
    assert "Ana Diaz &lt;client@example.com&gt;\ninterpreter@example.com" in shown.text
    edit = await client.get(f"{path}/edit")
    saved = await post_form(
        client, edit, f"{path}/edit", title="Consultation (room 5)",
        start_at="2026-03-10T10:00", end_at="2026-03-10T11:00", time_zone="America/New_York",
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    async with sessionmaker() as session:
        stored = await session.get(Appointment, row_id)
        assert stored is not None
        assert stored.title == "Consultation (room 5)"
        assert stored.attendees == people


async def test_a_court_date_on_a_colleagues_case_names_whose_calendar(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    """cm2 saves a court date on cm1's case: the notice names Carla (cm1), not just "saved";
    changing it names her again; naming cm2 says "your calendar" (j)."""
    await sign_in(client, ui_firm.cm2.email)
    form = await client.get("/entries/new/court_date")
    fields = {"case_id": str(ui_firm.case_id), "hearing_type": "Bond hearing",
              "start_at": "2026-03-12T13:00", "duration_minutes": "60",
              "time_zone": "America/New_York"}  # fmt: skip
    made = await post_form(client, form, "/entries/new/court_date", **fields)
    assert made.status_code == 303, made.text
    assert made.headers["location"].endswith("&done=entry-created")
    week = await client.get(made.headers["location"])
    notice = week.text.split('<p class="notice" role="status">')[1].split("</p>")[0]
    assert notice == (
        "The entry is saved to the calendar of the case&#39;s case managers: Carla Manager "
        "(cm1@alpha.test); the next sync carries it there."
    )
    entry_path = re.search(r"saved=court_date:([0-9a-f-]+)", made.headers["location"])
    assert entry_path is not None
    path = f"/entries/court_date/{entry_path.group(1)}"
    edit = await client.get(f"{path}/edit")
    mine = {**fields, "assigned_user_id": str(ui_firm.cm2.id)}
    saved = await post_form(client, edit, f"{path}/edit", **mine)
    assert saved.status_code == 303, saved.text
    page = await client.get(saved.headers["location"])
    assert "Your changes are saved to your calendar; the next sync" in page.text


async def test_the_saved_notice_names_nobody_the_viewer_may_not_see(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """``?saved=`` names an entry: one the viewer may not open gives the plain notice."""
    cm2 = ui_firm.actor(ui_firm.cm2, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        private = await create_appointment(session, cm2, {
            "title": "Doctor", "start_at": datetime(2026, 3, 10, 14, tzinfo=UTC),
            "end_at": datetime(2026, 3, 10, 15, tzinfo=UTC), "private": True,
        })  # fmt: skip
    await sign_in(client, ui_firm.cm1.email)
    for saved in (f"appointment:{private.id}", "appointment:nonsense", "nope:", ":"):
        page = await client.get(
            "/calendar", params={"week": "2026-03-10", "saved": saved, "done": "entry-created"}
        )
        assert page.status_code == 200, saved
        assert "Dan Manager" not in page.text, saved
        assert "The entry is saved; the next sync carries it" in page.text, saved
