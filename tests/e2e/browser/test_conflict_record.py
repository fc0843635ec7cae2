"""A conflict in a real browser: Bob's appointment, pushed to the emulated Google calendar, is
moved in CaseCal and moved elsewhere in Google before the next pass. His Calendar Sync page
lists the conflict, names the fields that differed and shows both values in his zone (the
Google side was written in UTC); restoring the other version carries it out at the next
pass, on the calendar page and in Google."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession
from tests.e2e.browser.harness import FIRM_ZONE, Shots, Stack, sign_in, tomorrow_at_ten

from casecal.services.appointments import create_appointment, update_appointment
from casecal.services.subscriptions import activate_subscription, add_seat, request_subscription
from casecal.store.tables import Role

pytestmark = pytest.mark.browser

BOB = "bob@example.org"
TITLE = "Prep call with Li Wei"
CONFLICTS = "section[aria-labelledby=conflicts-title]"


def _seat_bob_with_an_appointment(stack: Stack, start: datetime) -> uuid.UUID:
    async def make(session: AsyncSession) -> uuid.UUID:
        admin = stack.actor("admin", Role.FIRM_ADMIN)
        await request_subscription(session, admin)
        await activate_subscription(session, admin)
        await add_seat(session, admin, stack.people["bob"])
        row = await create_appointment(
            session,
            stack.actor("bob", Role.CASE_MANAGER),
            {"title": TITLE, "start_at": start, "end_at": start + timedelta(hours=1)},
        )
        return row.id

    found: uuid.UUID = stack.run(make)
    return found


def _move_in_casecal(stack: Stack, entry_id: uuid.UUID, start: datetime) -> None:
    async def move(session: AsyncSession) -> None:
        await update_appointment(
            session,
            stack.actor("bob", Role.CASE_MANAGER),
            entry_id,
            {"start_at": start, "end_at": start + timedelta(hours=1)},
        )
        await session.commit()

    stack.run(move)


def _pushed_event(stack: Stack) -> dict[str, Any]:
    [event] = [e for e in stack.emulators.google.events(BOB) if e.get("summary") == TITLE]
    return event


def _label(moment: datetime) -> str:
    """How the page writes a time: in Bob's zone (the firm's), with its abbreviation."""
    return moment.astimezone(FIRM_ZONE).strftime("%a %d %b %Y, %H:%M %Z")


def test_a_conflict_names_the_field_with_both_values_and_restores(
    page: Page, stack: Stack, shots: Shots
) -> None:
    first = tomorrow_at_ten()  # 10:00 in the firm's zone
    in_casecal = first - timedelta(hours=1)  # moved to 09:00 in CaseCal ...
    in_google = first + timedelta(hours=4)  # ... and to 14:00 in Google, before a pass
    entry_id = _seat_bob_with_an_appointment(stack, first)
    sign_in(page, stack.url, BOB)
    page.get_by_role("button", name="Sign in with Google").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#connection-state")).to_have_text("Active")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()
    event = _pushed_event(stack)

    _move_in_casecal(stack, entry_id, in_casecal)
    utc = "%Y-%m-%dT%H:%M:%SZ"
    stack.emulators.google.client_patch(BOB, event["id"], {
        "start": {"dateTime": in_google.astimezone(UTC).strftime(utc), "timeZone": "UTC"},
        "end": {"dateTime": (in_google + timedelta(hours=1)).astimezone(UTC).strftime(utc),
                "timeZone": "UTC"},
    })  # fmt: skip
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()

    conflicts = page.locator(CONFLICTS)
    [record] = conflicts.locator("li").all()
    expect(record).to_contain_text(TITLE)
    expect(record).to_contain_text(
        "Both sides changed it (start, end, time zone differed); the calendar version was kept."
    )
    header = [c.strip() for c in record.locator("thead th").all_text_contents()]
    assert header == ["Field", "Kept (calendar)", "Other version (CaseCal)"], header
    rows = {
        (row.locator("th").text_content() or "").strip(): row.locator("td").all_text_contents()
        for row in record.locator("tbody tr").all()
    }
    hour = timedelta(hours=1)
    assert rows == {
        "Start": [_label(in_google), _label(in_casecal)],  # 14:00 EST, though written in UTC
        "End": [_label(in_google + hour), _label(in_casecal + hour)],
        "Time zone": ["UTC", "America/New_York"],
    }, rows
    expect(record).not_to_contain_text("+00:00")  # no raw snapshot
    expect(record).not_to_contain_text(in_google.astimezone(UTC).strftime("T%H:%M"))
    other = in_casecal  # the version not kept, which Restore brings back
    shots(page, "conflict-names-start-and-end-in-bobs-zone")

    record.get_by_role("button", name="Restore the other version").click()
    expect(page.get_by_role("status")).to_contain_text("The other version is restored")
    expect(conflicts).to_contain_text("No conflicts.")
    shots(page, "restored-the-other-version")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Sync finished.")).to_be_visible()
    page.goto(f"{stack.url}/calendar?week={other.astimezone(FIRM_ZONE).date().isoformat()}")
    entry = page.locator(".week .entry", has_text=TITLE)
    expect(entry).to_have_count(1)
    local = other.astimezone(FIRM_ZONE)
    expect(entry).to_contain_text(f"{local:%H:%M}-{local + hour:%H:%M}")
    moved = datetime.fromisoformat(_pushed_event(stack)["start"]["dateTime"])
    assert moved == other, (moved, other)
    shots(page, "restored-version-on-the-calendar")
