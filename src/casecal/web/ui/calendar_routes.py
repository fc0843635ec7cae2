"""The calendar page: a week grid and a 30-day agenda of the signed-in user's entries, in the
viewer's time zone, each entry linking to its own page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from casecal.domain.validation import MAX_YEAR, MIN_YEAR
from casecal.services.calendar_feed import TOKEN, Span, calendar_version
from casecal.web.deps import SessionDep
from casecal.web.ui.calendar_data import entries_between, viewer_zone
from casecal.web.ui.entry_data import calendars_of, may_edit, saved_notice, visible_entry
from casecal.web.ui.entry_forms import ENTRY_NOTICES, NEW_KINDS
from casecal.web.ui.session import CurrentWebSession, load_signed_in
from casecal.web.ui.templating import render
from casecal.web.ui.views import agenda, lay_out_week, parse_week

router = APIRouter()

AGENDA_DAYS = 30


def _shown_week(monday: date) -> str:
    """The ``?week=`` of a neighbouring week, or ``""`` past the years the calendar shows."""
    return monday.isoformat() if MIN_YEAR <= monday.year <= MAX_YEAR else ""


def _spans(zone: ZoneInfo, monday: date, today: date) -> list[Span]:
    """What the page shows: the week from ``monday`` and the agenda from ``today``."""

    def span(first: date, days: int) -> Span:
        start = datetime.combine(first, time(), zone)
        return start, datetime.combine(first + timedelta(days=days), time(), zone)

    return [span(monday, 7), span(today, AGENDA_DAYS)]


def _changes_answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/calendar/changes")
async def calendar_changes(
    request: Request, session: SessionDep, week: str = "", since: str = ""
) -> Response:
    """Whether the calendar page of ``?week=`` changed since it showed version ``since``: the
    open page's script asks every few seconds. Signed-out callers get 401 (not a redirect to a
    sign-in page a script cannot read); a malformed week or token, 400."""
    signed = await load_signed_in(request, session)
    if signed is None:
        return _changes_answer(401, {"error": "sign in first"})
    zone = viewer_zone(signed.user.time_zone)
    today = datetime.now(zone).date()
    monday = parse_week(week, today)
    if monday is None:
        return _changes_answer(400, {"error": "week is not a date the calendar can show"})
    if since and not TOKEN.match(since):
        return _changes_answer(400, {"error": "since is not a version this page was given"})
    version = await calendar_version(session, signed.actor, _spans(zone, monday, today))
    return _changes_answer(200, {"changed": since != version, "version": version})


@router.get("/calendar")
async def calendar_page(
    request: Request, session: SessionDep, signed: CurrentWebSession, week: str = ""
) -> Response:
    actor = signed.actor
    zone = viewer_zone(signed.user.time_zone)
    today = datetime.now(zone).date()
    monday = parse_week(week, today)
    if monday is None:
        message = (
            f"“{week[:40]}” is not a week the calendar can show: give a date as YYYY-MM-DD "
            f"between the years {MIN_YEAR} and {MAX_YEAR}."
        )
        back = ("/calendar", "Back to this week")
        problem: dict[str, Any] = {"heading": "No such week", "message": message, "back": back}
        return render(request, "ui_problem.html", problem, signed=signed, status_code=400)
    # The version first: a change landing while the page is built shows at the next check.
    version = await calendar_version(session, actor, _spans(zone, monday, today))
    week_entries = await entries_between(session, actor, zone, monday, 7)
    upcoming = await entries_between(session, actor, zone, today, AGENDA_DAYS)
    context: dict[str, Any] = {
        "today": today,
        "monday": monday,
        "days": lay_out_week(monday, week_entries),
        "agenda": agenda(upcoming, today, AGENDA_DAYS),
        "agenda_days": AGENDA_DAYS,
        "previous_week": _shown_week(monday - timedelta(days=7)),
        "next_week": _shown_week(monday + timedelta(days=7)),
        "new_kinds": NEW_KINDS if may_edit(actor) else (),
        "zone_name": zone.key,
        "version": version,
        "week_param": monday.isoformat() if week else "",
        "new_day": (today if monday <= today < monday + timedelta(days=7) else monday).isoformat(),
    }
    if request.query_params.get("done", "") in ENTRY_NOTICES:
        context["notice"] = ENTRY_NOTICES[request.query_params["done"]]
    saved_kind, _, saved_id = request.query_params.get("saved", "").partition(":")
    if request.query_params.get("done") == "entry-created" and saved_id:
        saved = await visible_entry(session, actor, saved_kind, saved_id)
        if saved is not None:  # never a name the viewer could not see on the entry itself
            calendars = await calendars_of(session, actor, saved)
            context["notice"] = saved_notice(calendars, created=True)
    return render(request, "calendar.html", context, signed=signed)
