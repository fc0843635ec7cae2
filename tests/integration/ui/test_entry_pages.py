"""The entry pages over HTTP: the link every pushed event carries opens the entry (after
sign-in), answers another firm's id or an entry the viewer may not see like a missing one (a
readable page), and forms create, change and delete entries of the four kinds with the API's
validation, each error shown by its field."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import (
    UiFirm,
    csrf_of,
    make_ui_firm,
    post_form,
    sign_in,
    signed_in_page,
)

from casecal.domain.mapping import entry_link
from casecal.services.appointments import create_appointment
from casecal.services.case_entries import create_case_entry
from casecal.store.tables import (
    ENTRY_TABLES,
    Appointment,
    CourtDate,
    EntryKind,
    Interview,
    Role,
    StepReminder,
)

BASE = "http://testserver"


async def _appointment(
    sessionmaker: async_sessionmaker[AsyncSession], firm: UiFirm, **extra: object
) -> uuid.UUID:
    owner = extra.pop("owner", firm.cm1)
    async with sessionmaker() as session:
        row = await create_appointment(
            session,
            firm.actor(owner, Role.CASE_MANAGER),  # type: ignore[arg-type]
            {"title": "Client meeting", "start_at": datetime(2026, 3, 10, 14, tzinfo=UTC),
             "end_at": datetime(2026, 3, 10, 15, tzinfo=UTC), "location": "Office 2"} | extra,
        )  # fmt: skip
        return row.id


async def _edit_row(
    sessionmaker: async_sessionmaker[AsyncSession], row_id: uuid.UUID, **values: object
) -> None:
    async with sessionmaker() as session:
        row = await session.get(Appointment, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        await session.commit()


async def _row(
    sessionmaker: async_sessionmaker[AsyncSession], kind: EntryKind, row_id: uuid.UUID
) -> object:
    async with sessionmaker() as session:
        return await session.get(ENTRY_TABLES[kind], row_id)


def _path(kind: EntryKind, row_id: uuid.UUID) -> str:
    """The path of the link a pushed event carries (the domain's own format)."""
    return entry_link(BASE, kind, row_id).removeprefix(BASE)


async def test_the_pushed_link_signs_in_first_then_lands_on_the_entry(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    row_id = await _appointment(sessionmaker, ui_firm)
    path = _path(EntryKind.APPOINTMENT, row_id)
    first = await client.get(path)
    assert first.status_code == 303
    assert first.headers["location"] == f"/login?next={path}"
    form = await client.get(first.headers["location"])
    assert f'name="next" value="{path}"' in form.text
    done = await client.post(
        "/login",
        data={"email": ui_firm.cm1.email, "password": "correct horse battery",
              "csrf_token": csrf_of(form.text), "next": path},
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == path
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<h1 id="entry-title">Client meeting</h1>' in page.text
    assert "Tue 10 Mar 2026, 10:00 EDT to 11:00 EDT" in page.text  # New York, not raw ISO
    assert "2026-03-10T14" not in page.text
    assert f'action="{path}/delete"' in page.text


async def test_other_firms_and_hidden_entries_answer_like_missing_ones(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    other = await make_ui_firm(sessionmaker, "beta")
    theirs = await _appointment(sessionmaker, other, title="Beta's meeting")
    private = await _appointment(sessionmaker, ui_firm, owner=ui_firm.cm2, private=True,
                                 title="Doctor")  # fmt: skip
    imported = await _appointment(sessionmaker, ui_firm, owner=ui_firm.cm2, title="Gym")
    await _edit_row(sessionmaker, imported, origin="remote")
    deleted = await _appointment(sessionmaker, ui_firm, title="Gone")
    await _edit_row(sessionmaker, deleted, deleted_at=datetime.now(UTC))
    await sign_in(client, ui_firm.cm1.email)
    paths = [_path(EntryKind.APPOINTMENT, x) for x in (theirs, private, imported, deleted)]
    paths += [_path(EntryKind.COURT_DATE, theirs), "/entries/appointment/not-a-uuid",
              f"/entries/meeting/{theirs}", _path(EntryKind.APPOINTMENT, uuid.uuid4())]  # fmt: skip
    for path in paths:
        page = await client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "Entry not found" in page.text
        for secret in ("Beta", "Doctor", "Gym", "Gone"):
            assert secret not in page.text
    shared = await _appointment(sessionmaker, ui_firm, owner=ui_firm.cm2, title="Team lunch")
    page = await client.get(_path(EntryKind.APPOINTMENT, shared))
    assert page.status_code == 200  # the firm's calendar: readable, not changeable by cm1
    assert "Team lunch" in page.text
    assert "/edit" not in page.text
    edit = await client.get(_path(EntryKind.APPOINTMENT, shared) + "/edit")
    assert edit.status_code == 403
    assert "You cannot change this entry" in edit.text
    client.cookies.clear()
    owner = await signed_in_page(client, ui_firm.cm2.email, _path(EntryKind.APPOINTMENT, private))
    assert "Doctor" in owner.text  # its owner sees it


async def test_the_owner_shares_an_imported_appointment_from_its_page_and_takes_it_back(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    imported = await _appointment(sessionmaker, ui_firm, owner=ui_firm.cm2, title="Gym")
    await _edit_row(sessionmaker, imported, origin="remote")
    made_here = await _appointment(sessionmaker, ui_firm, owner=ui_firm.cm2, title="Intake")
    path = _path(EntryKind.APPOINTMENT, imported)
    action = f"/entries/appointment/{imported}/share"

    async def admin_sees() -> int:
        async with httpx.AsyncClient(transport=client._transport, base_url=BASE) as admin:
            await sign_in(admin, ui_firm.admin.email)
            return (await admin.get(path)).status_code

    assert await admin_sees() == 404  # private to its owner: a busy block, nothing to open
    page = await signed_in_page(client, ui_firm.cm2.email, path)
    assert "only you see it" in page.text
    other = await client.get(_path(EntryKind.APPOINTMENT, made_here))
    assert "/share" not in other.text  # only imports are shared
    done = await post_form(client, page, action, shared="1")
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?done=entry-shared"
    shared = await client.get(done.headers["location"])
    assert "Shared: your firm now sees this appointment" in shared.text
    assert "Keep it to myself" in shared.text
    assert await admin_sees() == 200
    back = await post_form(client, shared, action, shared="0")
    assert back.headers["location"] == f"{path}?done=entry-unshared"
    assert await admin_sees() == 404
    client.cookies.clear()
    await sign_in(client, ui_firm.cm1.email)  # not the owner: the import is not theirs to see
    own = await client.get(_path(EntryKind.APPOINTMENT, await _appointment(sessionmaker, ui_firm)))
    refused = await client.post(action, data={"csrf_token": csrf_of(own.text), "shared": "1"})
    assert refused.status_code == 404
    assert await admin_sees() == 404


async def _new(client: httpx.AsyncClient, kind: str, **fields: str) -> httpx.Response:
    form = await client.get(f"/entries/new/{kind}")
    assert form.status_code == 200, form.text
    return await post_form(client, form, f"/entries/new/{kind}", **fields)


async def test_entries_of_each_kind_are_created_from_the_calendar(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    calendar = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2026-03-09")
    for kind in EntryKind:
        assert f'href="/entries/new/{kind.value}?day=2026-03-09"' in calendar.text
    case = str(ui_firm.case_id)
    made = [
        await _new(client, "appointment", title="Weekly review", start_at="2026-03-10T09:00",
                   end_at="2026-03-10T09:30", time_zone="America/New_York", repeat="WEEKLY",
                   repeat_count="3", location="Room 4", show_as="busy"),
        await _new(client, "appointment", title="Conference", all_day="on",
                   start_date="2026-03-11", end_date="2026-03-12", time_zone="America/New_York"),
        await _new(client, "court_date", case_id=case, hearing_type="Individual hearing",
                   start_at="2026-03-12T13:00", duration_minutes="90",
                   time_zone="America/New_York", court_name="Immigration Court"),
        await _new(client, "interview", case_id=case, interview_type="Biometrics",
                   start_at="2026-03-13T08:00", duration_minutes="30",
                   time_zone="America/New_York", assigned_user_id=str(ui_firm.cm1.id)),
        await _new(client, "step_reminder", case_id=case, step_name="Send evidence",
                   due_date="2026-03-14"),
    ]  # fmt: skip
    for response in made:
        assert response.status_code == 303, response.text
        assert response.headers["location"].endswith("&done=entry-created")
    week = await client.get(made[0].headers["location"])
    assert "The entry is saved" in week.text
    for title in ("Weekly review", "Conference", "Individual hearing", "Biometrics",
                  "Send evidence"):  # fmt: skip
        assert title in week.text
    for day in ("Wed 11 Mar", "Thu 12 Mar"):  # the two days the conference covers
        assert "Conference" in week.text.split(day)[1].split("</li>\n    \n    <li", 1)[0]
    next_week = await client.get("/calendar?week=2026-03-16")
    assert "Weekly review" in next_week.text  # the series' second time
    async with sessionmaker() as session:
        review = await session.scalar(
            select(Appointment).where(Appointment.title == "Weekly review")
        )
        assert review is not None
        assert review.rrule == "FREQ=WEEKLY;COUNT=3"
        assert review.owner_id == ui_firm.cm1.id
        conference = await session.scalar(
            select(Appointment).where(Appointment.title == "Conference")
        )
        assert conference is not None
        assert conference.end_date == date(2026, 3, 13)


async def test_validation_errors_show_by_their_field_and_keep_the_values(
    client: httpx.AsyncClient, ui_firm: UiFirm
) -> None:
    await sign_in(client, ui_firm.cm1.email)
    ny, hour = {"time_zone": "America/New_York"}, {"start_at": "2026-03-10T10:00"}
    cases = {
        "end_at": {"title": "Backwards", **hour, "end_at": "2026-03-10T09:00", **ny},
        "title": {"title": "", **hour, "end_at": "2026-03-10T11:00", **ny},
        "time_zone": {"title": "Nowhere", **hour, "end_at": "2026-03-10T11:00",
                      "time_zone": "Mars/Olympus"},
        "rrule": {"title": "Odd", **hour, "end_at": "2026-03-10T11:00", **ny,
                  "repeat": "custom", "rrule": "FREQ=SECONDLY"},
        "repeat": {"title": "Too many", **hour, "end_at": "2026-03-10T11:00", **ny,
                   "repeat": "DAILY", "repeat_count": "5000"},  # past the series limits
        "repeat_count": {"title": "Endless", **hour, "end_at": "2026-03-10T11:00", **ny,
                         "repeat": "DAILY"},
        "start_at": {"title": "In the gap", "start_at": "2026-03-08T02:30",
                     "end_at": "2026-03-08T03:30", **ny},
    }  # fmt: skip
    for field, values in cases.items():
        response = await _new(client, "appointment", **values)
        assert response.status_code == 422, (field, response.text)
        assert f'id="err-{field}"' in response.text, field
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', response.text), field
        assert len(re.findall(r'class="field-error"', response.text)) == 1, field
        if values["title"]:
            assert f'value="{values["title"]}"' in response.text  # what was typed stays
    backwards = await _new(client, "appointment", **cases["end_at"])
    assert "Ends (Tue 10 Mar 2026, 09:00 EDT) is before Starts" in backwards.text
    assert "end_at" not in backwards.text.split('id="err-end_at"')[1].split("</p>")[0]
    missing_case = await _new(client, "court_date", hearing_type="Hearing",
                              start_at="2026-03-12T13:00", duration_minutes="60",
                              time_zone="America/New_York")  # fmt: skip
    assert missing_case.status_code == 422
    assert 'id="err-case_id"' in missing_case.text
    assert "This field is required." in missing_case.text


async def test_an_entry_is_changed_and_deleted_from_its_page(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    series = {"rrule": "FREQ=DAILY;COUNT=5", "exdates": ["2026-03-11T10:00:00"]}
    row_id = await _appointment(sessionmaker, ui_firm, time_zone="America/New_York", **series)
    path = _path(EntryKind.APPOINTMENT, row_id)
    edit = await signed_in_page(client, ui_firm.cm1.email, f"{path}/edit")
    assert 'value="2026-03-10T10:00"' in edit.text  # wall time in the entry's zone
    assert '<option value="DAILY" selected>' in edit.text
    assert 'value="5"' in edit.text
    saved = await post_form(
        client, edit, f"{path}/edit", title="Client meeting (moved)",
        start_at="2026-03-10T11:00", end_at="2026-03-10T12:30", time_zone="America/New_York",
        repeat="", location="",
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{path}?done=entry-saved"
    page = await client.get(saved.headers["location"])
    assert "Your changes are saved" in page.text
    row = await _row(sessionmaker, EntryKind.APPOINTMENT, row_id)
    assert isinstance(row, Appointment)
    assert (row.title, row.rrule, row.exdates, row.location) == (
        "Client meeting (moved)",
        None,
        [],
        "",
    )
    assert row.start_at == datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert row.version == 2
    deleted = await post_form(client, page, f"{path}/delete")
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/calendar?week=2026-03-10&done=entry-deleted"
    week = await client.get(deleted.headers["location"])
    assert "The entry is deleted" in week.text
    assert "Client meeting" not in week.text
    row = await _row(sessionmaker, EntryKind.APPOINTMENT, row_id)
    assert isinstance(row, Appointment)
    assert row.deleted_at is not None
    again = await client.get(path)
    assert again.status_code == 404


async def test_case_entries_are_changed_with_their_own_fields(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = ui_firm.actor(ui_firm.admin, Role.FIRM_ADMIN)
    async with sessionmaker() as session:
        court = await create_case_entry(session, admin, CourtDate, {
            "case_id": ui_firm.case_id, "hearing_type": "Master hearing",
            "start_at": datetime(2026, 3, 11, 9, 0), "assigned_user_id": ui_firm.cm2.id,
        })  # fmt: skip
        step = await create_case_entry(session, admin, StepReminder, {
            "case_id": ui_firm.case_id, "step_name": "File I-130",
            "due_date": date(2026, 3, 14), "reminder_date": date(2026, 3, 12)})  # fmt: skip
        interview = await create_case_entry(session, admin, Interview, {
            "case_id": ui_firm.case_id, "interview_type": "Asylum interview",
            "start_at": datetime(2026, 3, 13, 10, 0)})  # fmt: skip
    court_path = _path(EntryKind.COURT_DATE, court.id)
    edit = await signed_in_page(client, ui_firm.admin.email, f"{court_path}/edit")
    assert f'<option value="{ui_firm.cm2.id}" selected>' in edit.text
    done = await post_form(
        client, edit, f"{court_path}/edit", case_id=str(ui_firm.case_id),
        hearing_type="Master hearing", start_at="2026-03-11T09:30", duration_minutes="45",
        time_zone="America/New_York", assigned_user_id="", judge="Judge Ortiz",
    )  # fmt: skip
    assert done.status_code == 303, done.text
    row = await _row(sessionmaker, EntryKind.COURT_DATE, court.id)
    assert isinstance(row, CourtDate)
    assert (row.assigned_user_id, row.duration_minutes, row.judge) == (None, 45, "Judge Ortiz")
    step_path = _path(EntryKind.STEP_REMINDER, step.id)
    edit = await client.get(f"{step_path}/edit")
    done = await post_form(
        client, edit, f"{step_path}/edit", case_id=str(ui_firm.case_id),
        step_name="File I-130", due_date="2026-03-20", reminder_date="",
    )  # fmt: skip
    assert done.status_code == 303, done.text
    row = await _row(sessionmaker, EntryKind.STEP_REMINDER, step.id)
    assert isinstance(row, StepReminder)
    assert (row.due_date, row.reminder_date) == (date(2026, 3, 20), None)
    page = await client.get(_path(EntryKind.INTERVIEW, interview.id))
    assert "Fri 13 Mar 2026, 10:00 EDT to 11:00 EDT" in page.text
    assert "The case&#39;s case managers" in page.text


async def test_staff_read_entries_but_forms_refuse_them_and_posts_need_the_token(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    row_id = await _appointment(sessionmaker, ui_firm)
    path = _path(EntryKind.APPOINTMENT, row_id)
    page = await signed_in_page(client, ui_firm.staff.email, path)
    assert "Client meeting" in page.text
    assert "Edit" not in page.text
    calendar = await client.get("/calendar")
    assert "/entries/new/" not in calendar.text
    assert (await client.get("/entries/new/appointment")).status_code == 403
    token = csrf_of(page.text)
    refused = await client.post(f"{path}/delete", data={"csrf_token": token})
    assert refused.status_code == 403
    client.cookies.clear()
    await sign_in(client, ui_firm.cm1.email)
    forged = await client.post(f"{path}/delete", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    row = await _row(sessionmaker, EntryKind.APPOINTMENT, row_id)
    assert isinstance(row, Appointment)
    assert row.deleted_at is None


async def test_an_admin_reaches_the_calendar_and_books_for_a_case_manager(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    home = await signed_in_page(client, ui_firm.admin.email, "/calendar-sync")
    assert '<a href="/calendar">Calendar</a>' in home.text
    form = await client.get("/entries/new/appointment")
    assert 'name="owner_id"' in form.text
    made = await post_form(
        client, form, "/entries/new/appointment", title="Prep with Carla",
        start_at="2026-03-10T16:00", end_at="2026-03-10T17:00", time_zone="America/New_York",
        owner_id=str(ui_firm.cm1.id),
    )  # fmt: skip
    assert made.status_code == 303, made.text
    client.cookies.clear()
    carla = await signed_in_page(client, ui_firm.cm1.email, "/calendar?week=2026-03-10")
    assert "Prep with Carla" in carla.text
    form = await client.get("/entries/new/appointment")
    assert 'name="owner_id"' not in form.text  # a case manager books for themselves only
