"""The entry pages: ``/entries/<kind>/<id>`` (the link every pushed event carries) opens the
entry, after sign-in if needed; forms create, change and delete entries of the four kinds
through the same services and validation as the API, errors shown by their field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.entries import EntryKind
from casecal.errors import DomainError
from casecal.services.appointments import share_appointment
from casecal.web.deps import SessionDep
from casecal.web.ui import entry_data
from casecal.web.ui.entry_facts import day_of, entry_facts, title_of
from casecal.web.ui.entry_forms import (
    ENTRY_NOTICES,
    FORMS,
    REPEATS,
    SHOW_AS,
    FormErrors,
    field_of,
    form_values,
    parse_form,
    readable,
)
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn
from casecal.web.ui.templating import render
from casecal.web.ui.views import KIND_LABELS

router = APIRouter()

NOT_FOUND = (
    "There is no such entry in your firm's calendar: it may have been deleted, or it is not "
    "yours to see."
)


def problem_page(
    request: Request, signed: SignedIn, status: int, heading: str, message: str
) -> Response:
    context = {"heading": heading, "message": message,
               "back": ("/calendar", "Back to the calendar")}  # fmt: skip
    return render(request, "ui_problem.html", context, signed=signed, status_code=status)


def not_found(request: Request, signed: SignedIn) -> Response:
    return problem_page(request, signed, 404, "Entry not found", NOT_FOUND)


def read_only(request: Request, signed: SignedIn) -> Response:
    message = "Your role may look at entries but not change them. Ask a case manager or admin."
    return problem_page(request, signed, 403, "You cannot change this entry", message)


async def _form_page(
    request: Request,
    session: AsyncSession,
    signed: SignedIn,
    kind: EntryKind,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    entry_id: str = "",
) -> Response:
    fields = [f for f in FORMS[kind] if f.name != "owner_id" or signed.is_admin]
    options = await entry_data.choices(session, signed.actor) | {
        "repeat": list(REPEATS), "show_as": list(SHOW_AS)
    }  # fmt: skip
    label = KIND_LABELS[kind].lower()
    page = f"/entries/{kind.value}/{entry_id}"
    context = {
        "kind": kind,
        "fields": fields,
        "values": values,
        "errors": errors or {},
        "options": options,
        "heading": f"Change {label}" if entry_id else f"New {label}",
        "action": f"{page}/edit" if entry_id else f"/entries/new/{kind.value}",
        "cancel": page if entry_id else "/calendar",
    }
    status = 422 if errors else 200
    return render(request, "entry_form.html", context, signed=signed, status_code=status)


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@router.get("/entries/new/{kind}")
async def new_entry(
    request: Request, session: SessionDep, signed: CurrentWebSession, kind: str, day: str = ""
) -> Response:
    entry_kind = entry_data.kind_of(kind)
    if entry_kind is None:
        return not_found(request, signed)
    if not entry_data.may_edit(signed.actor):
        return read_only(request, signed)
    values = {"time_zone": signed.user.time_zone, "show_as": "busy"}
    if entry_kind is EntryKind.STEP_REMINDER:
        values["due_date"] = day[:10]
    elif day[:10]:
        values |= {"start_at": f"{day[:10]}T09:00", "end_at": f"{day[:10]}T10:00",
                   "start_date": day[:10]}  # fmt: skip
    if entry_kind in (EntryKind.COURT_DATE, EntryKind.INTERVIEW):
        values["duration_minutes"] = "120" if entry_kind is EntryKind.COURT_DATE else "60"
    return await _form_page(request, session, signed, entry_kind, values=values)


async def _save(
    request: Request,
    session: AsyncSession,
    signed: SignedIn,
    kind: EntryKind,
    entry: Any = None,
) -> Response:
    values = await _posted(request)
    entry_id = str(entry.id) if entry is not None else ""  # readable after a rollback too
    try:
        data = parse_form(kind, values, signed.user.time_zone)
        if entry is None:
            saved = await entry_data.create(session, signed.actor, kind, data)
        else:
            saved = await entry_data.update(session, signed.actor, entry, data)
    except FormErrors as exc:
        errors = exc.errors
    except DomainError as exc:
        await session.rollback()
        zone = values.get("time_zone") or signed.user.time_zone
        errors = {field_of(kind, exc.field, values): readable(kind, exc.detail, zone)}
    else:
        if entry is None:
            week = day_of(saved, signed.user.time_zone).isoformat()
            saved_ref = f"{kind.value}:{saved.id}"  # the page names whose calendars it is on
            return RedirectResponse(
                f"/calendar?week={week}&saved={saved_ref}&done=entry-created", 303
            )
        return RedirectResponse(f"/entries/{kind.value}/{saved.id}?done=entry-saved", 303)
    return await _form_page(
        request, session, signed, kind, values=values, errors=errors, entry_id=entry_id
    )


@router.post("/entries/new/{kind}")
async def create_entry(
    request: Request, session: SessionDep, signed: CsrfChecked, kind: str
) -> Response:
    entry_kind = entry_data.kind_of(kind)
    if entry_kind is None:
        return not_found(request, signed)
    if not entry_data.may_edit(signed.actor):
        return read_only(request, signed)
    return await _save(request, session, signed, entry_kind)


@router.get("/entries/{kind}/{entry_id}")
async def show_entry(
    request: Request, session: SessionDep, signed: CurrentWebSession, kind: str, entry_id: str
) -> Response:
    entry = await entry_data.visible_entry(session, signed.actor, kind, entry_id)
    if entry is None:
        return not_found(request, signed)
    zone = signed.user.time_zone
    context = {
        "entry": entry,
        "title": title_of(entry),
        "facts": entry_facts(entry, zone, await entry_data.names(session, entry)),
        "week": day_of(entry, zone).isoformat(),
        "can_edit": entry_data.may_edit(signed.actor, entry),
        "can_share": _may_share(signed, entry),
        "notice": ENTRY_NOTICES.get(request.query_params.get("done", ""), ""),
    }
    if request.query_params.get("done") == "entry-saved":
        calendars = await entry_data.calendars_of(session, signed.actor, entry)
        context["notice"] = entry_data.saved_notice(calendars, created=False)
    return render(request, "entry.html", context, signed=signed)


def _may_share(signed: SignedIn, entry: Any) -> bool:
    """The owner of an appointment imported from their own calendar may share it with the
    firm, or take it back (``services.appointments.share_appointment`` decides again)."""
    return (
        getattr(entry, "kind", None) == EntryKind.APPOINTMENT
        and getattr(entry, "origin", None) == "remote"
        and getattr(entry, "owner_id", None) == signed.actor.user_id
    )


@router.post("/entries/appointment/{entry_id}/share")
async def share_entry(
    request: Request, session: SessionDep, signed: CsrfChecked, entry_id: str
) -> Response:
    """Share an imported appointment with the firm (``shared=1``) or keep it to oneself."""
    entry = await entry_data.visible_entry(session, signed.actor, "appointment", entry_id)
    if entry is None:
        return not_found(request, signed)
    shared = (await _posted(request)).get("shared") == "1"
    try:
        await share_appointment(session, signed.actor, entry.id, shared=shared)
    except DomainError as exc:
        await session.rollback()
        return problem_page(request, signed, exc.status_code, "Not changed", exc.detail)
    done = "entry-shared" if shared else "entry-unshared"
    return RedirectResponse(f"/entries/appointment/{entry.id}?done={done}", 303)


async def _editable(
    request: Request, session: AsyncSession, signed: SignedIn, kind: str, entry_id: str
) -> tuple[EntryKind, Any] | Response:
    entry = await entry_data.visible_entry(session, signed.actor, kind, entry_id)
    if entry is None:
        return not_found(request, signed)
    if not entry_data.may_edit(signed.actor, entry):
        return read_only(request, signed)
    return EntryKind(entry.kind), entry


@router.get("/entries/{kind}/{entry_id}/edit")
async def edit_entry(
    request: Request, session: SessionDep, signed: CurrentWebSession, kind: str, entry_id: str
) -> Response:
    found = await _editable(request, session, signed, kind, entry_id)
    if isinstance(found, Response):
        return found
    entry_kind, entry = found
    values = form_values(entry_kind, entry)
    entry_id = str(entry.id)
    return await _form_page(request, session, signed, entry_kind, values=values, entry_id=entry_id)


@router.post("/entries/{kind}/{entry_id}/edit")
async def save_entry(
    request: Request, session: SessionDep, signed: CsrfChecked, kind: str, entry_id: str
) -> Response:
    found = await _editable(request, session, signed, kind, entry_id)
    if isinstance(found, Response):
        return found
    entry_kind, entry = found
    return await _save(request, session, signed, entry_kind, entry)


@router.post("/entries/{kind}/{entry_id}/delete")
async def delete_entry(
    request: Request, session: SessionDep, signed: CsrfChecked, kind: str, entry_id: str
) -> Response:
    found = await _editable(request, session, signed, kind, entry_id)
    if isinstance(found, Response):
        return found
    _, entry = found
    week = day_of(entry, signed.user.time_zone).isoformat()
    try:
        await entry_data.delete(session, signed.actor, entry)
    except DomainError as exc:
        await session.rollback()
        return problem_page(request, signed, exc.status_code, "Not deleted", exc.detail)
    return RedirectResponse(f"/calendar?week={week}&done=entry-deleted", 303)
