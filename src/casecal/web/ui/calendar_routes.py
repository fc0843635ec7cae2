"""The calendar page: a week grid and a 30-day agenda of the signed-in user's entries, in the
viewer's time zone, each entry linking to its own page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from casecal.domain.validation import MAX_YEAR, MIN_YEAR
from casecal.web.deps import SessionDep
from casecal.web.ui.calendar_data import entries_between, viewer_zone
from casecal.web.ui.entry_data import may_edit
from casecal.web.ui.entry_forms import ENTRY_NOTICES, NEW_KINDS
from casecal.web.ui.session import CurrentWebSession
from casecal.web.ui.templating import render
from casecal.web.ui.views import agenda, lay_out_week, parse_week

router = APIRouter()

AGENDA_DAYS = 30


def _shown_week(monday: date) -> str:
    """The ``?week=`` of a neighbouring week, or ``""`` past the years the calendar shows."""
    return monday.isoformat() if MIN_YEAR <= monday.year <= MAX_YEAR else ""


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
        "new_day": (today if monday <= today < monday + timedelta(days=7) else monday).isoformat(),
    }
    if request.query_params.get("done", "") in ENTRY_NOTICES:
        context["notice"] = ENTRY_NOTICES[request.query_params["done"]]
    return render(request, "calendar.html", context, signed=signed)
