"""``GET /calendar/changes``: the open calendar page's cheap check. Its version changes when an
entry the page shows is added, changed or deleted, and not otherwise; what another firm or a
colleague does privately never moves it; every malformed input is a 4xx."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, make_ui_firm, signed_in_page

from casecal.services.appointments import create_appointment, update_appointment
from casecal.services.case_entries import create_case_entry
from casecal.services.entries import delete_entry
from casecal.store.tables import Appointment, CourtDate, Role

_VERSION = re.compile(r'data-version="([0-9a-f]{20})"')


def _soon(hours: int = 0) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=2, hours=hours)


async def _open_page(client: httpx.AsyncClient, email: str) -> str:
    """Sign in and open the calendar page; the version the page was drawn at."""
    page = await signed_in_page(client, email, "/calendar")
    assert 'src="/static/calendar-live.js"' in page.text
    found = _VERSION.search(page.text)
    assert found, "the calendar region carries no version"
    return found.group(1)


async def _changes(client: httpx.AsyncClient, since: str) -> dict[str, object]:
    answer = await client.get("/calendar/changes", params={"since": since})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, object] = answer.json()
    return body


async def test_unchanged_until_a_host_edit_then_each_edit_and_the_deletion(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        entry = await create_appointment(
            session, cm1, {"title": "Intake call", "start_at": _soon(), "end_at": _soon(1)}
        )
        entry_id = entry.id
    version = await _open_page(client, ui_firm.cm1.email)
    assert await _changes(client, version) == {"changed": False, "version": version}
    assert await _changes(client, version) == {"changed": False, "version": version}

    async with sessionmaker() as session:
        await update_appointment(session, cm1, entry_id, {"title": "Intake call, room 5"})
        await session.commit()
    retitled = await _changes(client, version)
    assert retitled["changed"] is True
    version = str(retitled["version"])
    assert (await _changes(client, version))["changed"] is False

    async with sessionmaker() as session:
        await delete_entry(session, cm1, Appointment, entry_id)
        await session.commit()
    assert (await _changes(client, version))["changed"] is True


async def test_a_court_date_on_a_case_i_manage_counts(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    version = await _open_page(client, ui_firm.cm1.email)
    async with sessionmaker() as session:
        await create_case_entry(
            session,
            ui_firm.actor(ui_firm.admin, Role.FIRM_ADMIN),
            CourtDate,
            {"case_id": ui_firm.case_id, "hearing_type": "Master calendar hearing",
             "start_at": _soon().replace(tzinfo=None)},
        )  # fmt: skip
    assert (await _changes(client, version))["changed"] is True


async def test_other_firms_and_colleagues_private_entries_do_not_move_the_version(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A colleague's private appointment, their imported personal event and another firm's
    entries, all in the viewed range: the token stays, so it tells nothing about them."""
    other = await make_ui_firm(sessionmaker, "beta")
    version = await _open_page(client, ui_firm.cm1.email)
    cm2 = ui_firm.actor(ui_firm.cm2, Role.CASE_MANAGER)
    async with sessionmaker() as session:
        await create_appointment(
            session,
            cm2,
            {"title": "Doctor", "start_at": _soon(), "end_at": _soon(1), "private": True},
        )
        personal = await create_appointment(
            session, cm2, {"title": "Gym", "start_at": _soon(2), "end_at": _soon(3)}
        )
        personal.origin = "remote"  # as the sync engine marks an event made in Outlook/Google
        await create_appointment(
            session,
            other.actor(other.cm1, Role.CASE_MANAGER),
            {"title": "Beta intake", "start_at": _soon(), "end_at": _soon(1)},
        )
        await create_case_entry(
            session,
            other.actor(other.admin, Role.FIRM_ADMIN),
            CourtDate,
            {"case_id": other.case_id, "hearing_type": "Beta hearing",
             "assigned_user_id": other.cm1.id, "start_at": _soon().replace(tzinfo=None)},
        )  # fmt: skip
        await session.commit()
    assert await _changes(client, version) == {"changed": False, "version": version}


async def test_the_week_shown_is_the_range_checked(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A page showing a week in 2030 (and the agenda of the next 30 days) is not redrawn for
    an entry two months ahead, and is for one in its week."""
    await _open_page(client, ui_firm.cm1.email)
    week = {"week": "2030-06-12"}
    before = (await client.get("/calendar/changes", params=week)).json()["version"]
    page = await client.get("/calendar", params=week)
    assert f'data-version="{before}"' in page.text
    assert 'data-changes="/calendar/changes?week=2030-06-10"' in page.text
    cm1 = ui_firm.actor(ui_firm.cm1, Role.CASE_MANAGER)
    far = _soon() + timedelta(days=60)
    async with sessionmaker() as session:
        await create_appointment(
            session, cm1, {"title": "Far", "start_at": far, "end_at": far + timedelta(hours=1)}
        )
    answer = await client.get("/calendar/changes", params={**week, "since": before})
    assert answer.json() == {"changed": False, "version": before}
    later = datetime(2030, 6, 12, 15, tzinfo=UTC)
    async with sessionmaker() as session:
        await create_appointment(
            session,
            cm1,
            {"title": "Later", "start_at": later, "end_at": later + timedelta(hours=1)},
        )
    answer = await client.get("/calendar/changes", params={**week, "since": before})
    assert answer.json()["changed"] is True


@pytest.mark.parametrize(
    "params",
    [
        {"since": "not-a-version"},
        {"since": "0" * 21},
        {"since": "ABCDEF0123456789ABCD"},
        {"since": "x" * 5000},
        {"since": "%00'; drop table appointments;--"},
        {"week": "tomorrow"},
        {"week": "0001-01-01"},
        {"week": "99999-01-01"},
        {"week": "2026-02-30", "since": "0" * 20},
        {"week": "\u0000"},
    ],
)
async def test_garbage_is_a_client_error(
    client: httpx.AsyncClient, ui_firm: UiFirm, params: dict[str, str]
) -> None:
    await _open_page(client, ui_firm.cm1.email)
    answer = await client.get("/calendar/changes", params=params)
    assert answer.status_code == 400, answer.text
    assert "error" in answer.json()


async def test_signed_out_is_401_not_a_redirect(client: httpx.AsyncClient, ui_firm: UiFirm) -> None:
    answer = await client.get("/calendar/changes", params={"since": "0" * 20})
    assert answer.status_code == 401
    assert answer.json() == {"error": "sign in first"}
