"""REST API v1 routers, one module per resource, gathered into one ``api_router``."""

from fastapi import APIRouter

from casecal.web.routes import (
    aliases,
    appointments,
    approvals,
    cases,
    connections,
    court_dates,
    interviews,
    settings_api,
    step_reminders,
    subscription,
    teams,
    users,
)
from casecal.web.routes._common import PROBLEM_RESPONSES

api_router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
for _module in (
    users, teams, cases, appointments, court_dates, interviews, step_reminders, subscription,
    connections, aliases, settings_api, approvals,
):  # fmt: skip
    api_router.include_router(_module.router)
