"""The calendar page: a week grid and a 30-day agenda of the signed-in user's entries."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from casecal.web.deps import SessionDep
from casecal.web.ui.calendar_data import entries_between, firm_zone, parse_day
from casecal.web.ui.session import CurrentWebSession
from casecal.web.ui.templating import render
from casecal.web.ui.views import agenda, lay_out_week, week_start

router = APIRouter()

AGENDA_DAYS = 30


@router.get("/calendar")
async def calendar_page(
    request: Request, session: SessionDep, signed: CurrentWebSession, week: str = ""
) -> Response:
    actor = signed.actor
    today = datetime.now(await firm_zone(session, actor)).date()
    monday = week_start(parse_day(week, today))
    week_entries = await entries_between(session, actor, monday, 7)
    upcoming = await entries_between(session, actor, today, AGENDA_DAYS)
    context = {
        "today": today,
        "monday": monday,
        "days": lay_out_week(monday, week_entries),
        "agenda": agenda(upcoming),
        "agenda_days": AGENDA_DAYS,
        "previous_week": (monday - timedelta(days=7)).isoformat(),
        "next_week": (monday + timedelta(days=7)).isoformat(),
    }
    return render(request, "calendar.html", context, signed=signed)
