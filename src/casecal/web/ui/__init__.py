"""The server-rendered UI (sign-in, Setup > Subscriptions > Calendar Sync, the calendar page)
and the OAuth callbacks, gathered into one ``ui_router``."""

from importlib import import_module
from importlib.util import find_spec

from fastapi import APIRouter

from casecal.web.ui import (
    approval_routes,
    auth_routes,
    calendar_routes,
    consent_routes,
    entry_routes,
    firm_settings_routes,
    settings_routes,
    sso_routes,
    static_routes,
    sync_routes,
    users_routes,
)

ui_router = APIRouter(include_in_schema=False)
ui_router.include_router(auth_routes.router)
ui_router.include_router(sync_routes.router)
ui_router.include_router(calendar_routes.router)
ui_router.include_router(entry_routes.router)
ui_router.include_router(static_routes.router)
ui_router.include_router(users_routes.router)
ui_router.include_router(settings_routes.router)
ui_router.include_router(firm_settings_routes.router)
ui_router.include_router(sso_routes.router)
ui_router.include_router(approval_routes.router)
ui_router.include_router(consent_routes.router)

for _optional in (
    "casecal.web.ui.connect_routes",
    "casecal.web.ui.oauth_routes",
    "casecal.web.ui.connect_prompt_routes",
    "casecal.web.ui.caldav_routes",
):
    if find_spec(_optional) is not None:  # the OAuth parts arrive in their own modules
        ui_router.include_router(import_module(_optional).router)
