"""The calendar page: the week grid and the agenda list the signed-in case manager's entries
of all four kinds, imported appointments marked, and nobody else's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, signed_in_page

from casecal.services.appointments import create_appointment
from casecal.services.case_entries import create_case_entry
from casecal.store.tables import Appointment, CourtDate, Interview, Role, StepReminder, User


async def _seed(sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm) -> None:
    admin = firm.actor(firm.admin, Role.FIRM_ADMIN)
    cm1 = firm.actor(firm.cm1, Role.CASE_MANAGER)
    cm2 = firm.actor(firm.cm2, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        await create_appointment(
            session,
            cm1,
            {
                "title": "Client meeting",
                "start_at": datetime(2026, 3, 10, 14, tzinfo=UTC),
                "end_at": datetime(2026, 3, 10, 15, tzinfo=UTC),
                "location": "Office 2",
            },
        )
        imported = await create_appointment(
            session,
            cm1,
            {
                "title": "Dentist",
                "start_at": datetime(2026, 3, 12, 16, tzinfo=UTC),
                "end_at": datetime(2026, 3, 12, 17, tzinfo=UTC),
            },
        )
        imported_id = imported.id
        await create_case_entry(
            session,
            admin,
            CourtDate,
            {
                "case_id": firm.case_id,
                "hearing_type": "Master calendar hearing",
                "start_at": datetime(2026, 3, 11, 9, 0),
                "court_name": "Immigration Court",
            },
        )
        await create_case_entry(
            session,
            admin,
            Interview,
            {
                "case_id": firm.case_id,
                "interview_type": "Asylum interview",
                "assigned_user_id": firm.cm1.id,
                "start_at": datetime(2026, 3, 13, 10, 0),
            },
        )
        await create_case_entry(
            session,
            admin,
            StepReminder,
            {"case_id": firm.case_id, "step_name": "File I-130", "due_date": date(2026, 3, 14)},
        )
        await create_appointment(
            session,
            cm2,
            {
                "title": "Someone else's lunch",
                "start_at": datetime(2026, 3, 10, 12, tzinfo=UTC),
                "end_at": datetime(2026, 3, 10, 13, tzinfo=UTC),
            },
        )
        await create_appointment(
            session,
            cm1,
            {
                "title": "Soon call",
                "start_at": datetime.now(UTC) + timedelta(days=2),
                "end_at": datetime.now(UTC) + timedelta(days=2, hours=1),
            },
        )
        row = await session.get(Appointment, imported_id)
        assert row is not None
        row.origin = "remote"  # as the sync engine marks an appointment made in Outlook/Google
        await session.commit()  # fmt: skip


async def test_week_view_lists_all_four_kinds_of_my_entries(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(sessionmaker, ui_firm)
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2026-03-11")
    html = page.text
    assert "Week of March 9, 2026" in html
    for title in ("Client meeting", "Dentist", "Master calendar hearing", "Asylum interview",
                  "File I-130"):  # fmt: skip
        assert title in html
    for kind in ("Appointment", "Court date", "Interview", "Step reminder"):
        assert f'<span class="badge">{kind}</span>' in html
    dentist = html.split("Dentist")[0].rsplit("<li", 1)[1]
    assert "Imported" in dentist
    assert "Imported" not in html.split("Client meeting")[0].rsplit("<li", 1)[1]
    assert "Someone else" not in html
    assert "10:00-11:00" in html  # 14:00 UTC in New York (the firm's zone), an hour long
    tuesday = html.split("Tue 10 Mar")[1].split("</li>\n    \n    <li", 1)[0]
    assert "Client meeting" in tuesday
    assert "Master calendar hearing" not in tuesday


async def test_agenda_lists_the_coming_days_and_others_see_their_own(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(sessionmaker, ui_firm)
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar")
    agenda = page.text.split('id="agenda-title"')[1]
    assert "Soon call" in agenda
    assert "Client meeting" not in agenda  # months ago, outside the next 30 days
    client.cookies.clear()
    other = await signed_in_page(client, ui_firm.cm2.email, "/calendar?week=2026-03-09")
    assert "Someone else&#39;s lunch" in other.text
    assert "Master calendar hearing" not in other.text  # cm2 does not manage the case


async def test_a_series_shows_every_occurrence_as_it_is_now(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A weekly series shows in each week it occurs, on its weekday and local time (also
    after New York's change to daylight-saving time on March 8), a cancelled occurrence not
    at all, and a changed one with its own title and time."""
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        await create_appointment(
            session,
            cm1,
            {
                "title": "Team stand-up",
                "start_at": datetime(2026, 3, 2, 9, 30),
                "end_at": datetime(2026, 3, 2, 10, 0),
                "time_zone": "America/New_York",
                "rrule": "FREQ=WEEKLY;COUNT=4",
                "exdates": ["2026-03-16T09:30:00"],
                "overrides": [
                    {"original_start": "2026-03-23T09:30:00", "title": "Stand-up (moved)",
                     "start": "2026-03-24T11:00:00", "end": "2026-03-24T11:30:00"}
                ],
            },
        )  # fmt: skip
    weeks = {}
    for monday in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"):
        page = await signed_in_page(client, ui_firm.cm1.email, f"/calendar?week={monday}")
        weeks[monday] = page.text.split('id="agenda-title"')[0]
        client.cookies.clear()
    assert "Team stand-up" in weeks["2026-03-02"]
    assert "Team stand-up" in weeks["2026-03-09"]
    assert "9:30-10:00" in weeks["2026-03-09"]  # the same local time after the DST change
    assert "Team stand-up" not in weeks["2026-03-16"]  # cancelled
    assert "Team stand-up" not in weeks["2026-03-23"]
    tuesday = weeks["2026-03-23"].split("Tue 24 Mar")[1].split("</li>\n    \n    <li", 1)[0]
    assert "Stand-up (moved)" in tuesday
    assert "11:00-11:30" in tuesday
    assert "stand-up" not in weeks["2026-03-30"].lower()  # COUNT=4: no fifth


async def test_weeks_out_of_range_or_malformed_are_a_readable_400(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    """Before: 0001-01-01 and 9999-12-31 overflowed the previous / next week's date (500)."""
    last = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2200-12-30")
    assert "Next week" not in last.text  # no link to a week that would be refused
    first = await client.get("/calendar?week=1900-01-01")
    assert "Previous week" not in first.text
    assert "Next week" in first.text
    for week in ("0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01", "2026-02-30",
                 "next", "2026-03-09%00"):  # fmt: skip
        page = await client.get(f"/calendar?week={week}")
        assert page.status_code == 400, week
        assert page.headers["content-type"].startswith("text/html")
        assert "No such week" in page.text
        assert 'href="/calendar"' in page.text


async def test_times_show_in_the_viewers_own_zone(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(sessionmaker, ui_firm)
    async with sessionmaker() as session:
        user = await session.get(User, ui_firm.cm1.id)
        assert user is not None
        user.time_zone = "Europe/Berlin"
        await session.commit()
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2026-03-09")
    assert "15:00-16:00" in page.text  # 14:00 UTC in Berlin, not New York's 10:00
    assert "10:00-11:00" not in page.text
    assert "Europe/Berlin" in page.text
    assert "due Sat 14 Mar 2026" in page.text  # a readable date, not 2026-03-14


async def test_a_multi_day_all_day_entry_shows_on_every_day_it_covers(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        await create_appointment(session, cm1, {
            "title": "Bar conference", "all_day": True,
            "start_date": date(2026, 3, 11), "end_date": date(2026, 3, 17),
        })  # fmt: skip
    week = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2026-03-09")
    grid = week.text.split('id="agenda-title"')[0]
    for day in ("Mon 9 Mar", "Tue 10 Mar"):
        assert "Bar conference" not in grid.split(day)[1].split("</li>\n    \n    <li", 1)[0]
    for day in ("Wed 11 Mar", "Thu 12 Mar", "Fri 13 Mar", "Sat 14 Mar", "Sun 15 Mar"):
        assert "Bar conference" in grid.split(day)[1].split("</li>\n    \n    <li", 1)[0], day
    assert grid.count("Bar conference") == 5
    assert "All day, 11 Mar to 16 Mar" in grid
    following = await client.get("/calendar?week=2026-03-16")
    grid = following.text.split('id="agenda-title"')[0]
    assert grid.count("Bar conference") == 1  # Monday the 16th, its last day


async def test_series_without_end_or_huge_counts_render_only_the_week_shown(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Rows as an old version or an import may have stored them (creating them now is capped):
    the page expands each only inside the week shown and the 30 days of the agenda."""
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    today = datetime.now(UTC).date()
    async with sessionmaker() as session:
        for title, rule in (("Daily forever", "FREQ=DAILY"),
                            ("Daily million", "FREQ=DAILY;COUNT=1000000")):  # fmt: skip
            row = await create_appointment(session, cm1, {
                "title": title, "start_at": datetime(2026, 1, 5, 15, tzinfo=UTC),
                "end_at": datetime(2026, 1, 5, 16, tzinfo=UTC), "rrule": "FREQ=DAILY;COUNT=2",
            })  # fmt: skip
            row.rrule, row.ends_at = rule, None
        await session.commit()
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2026-06-01")
    grid, agenda = page.text.split('id="agenda-title"')
    assert grid.count("Daily forever") == 7
    assert grid.count("Daily million") == 7
    if today >= date(2026, 1, 5):  # the agenda starts today: 30 days of each
        assert agenda.count("Daily forever") == 30


async def test_a_series_running_for_decades_still_shows_in_this_week(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """An imported daily series without end from 2000 (more occurrences before the week than
    one expansion may make) is expanded from near the week: it shows each day, a cancelled
    day and a moved occurrence as they are."""
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        row = await create_appointment(session, cm1, {
            "title": "Morning check-in", "start_at": datetime(2000, 1, 3, 9, 0),
            "end_at": datetime(2000, 1, 3, 9, 15), "time_zone": "America/New_York",
            "rrule": "FREQ=DAILY;COUNT=2",
        })  # fmt: skip
        row.rrule, row.ends_at, row.origin = "FREQ=DAILY", None, "remote"
        row.exdates = ["2026-03-11T13:00:00+00:00"]  # stored in UTC: 9:00 in New York
        late = {"title": "Check-in (late)", "location": "", "notes": ""}
        row.overrides = [late | {"original_start": "2026-03-12T13:00:00+00:00",
                                 "start": "2026-03-12T15:00:00+00:00",
                                 "end": "2026-03-12T15:15:00+00:00"}]  # fmt: skip
        await session.commit()
    page = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2026-03-09")
    grid = page.text.split('id="agenda-title"')[0]
    assert grid.count("Morning check-in") == 5  # seven days, less the cancelled and moved ones
    assert "9:00-09:15" in grid  # after New York's change to summer time, the same wall time
    thursday = grid.split("Thu 12 Mar")[1].split("</li>\n    \n    <li", 1)[0]
    assert "Check-in (late)" in thursday
    assert "11:00-11:15" in thursday
    wednesday = grid.split("Wed 11 Mar")[1].split("</li>\n    \n    <li", 1)[0]
    assert "Morning check-in" not in wednesday
