"""Your settings: the time zone pages show times in (the firm's unless the user picks one) and
your own sync preferences, each with where its value comes from and the lock that fixes it."""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.domain.settings_catalog import Level
from casecal.errors import DomainError
from casecal.services.firm_settings import read_settings, resolve_scope
from casecal.services.users import own_zone, set_own_zone
from casecal.store.tables import utcnow
from casecal.web.deps import SessionDep
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn
from casecal.web.ui.setting_forms import SettingRow, apply_form, rows_of
from casecal.web.ui.templating import render

router = APIRouter()

PAGE = "/settings"


@cache
def zones() -> tuple[str, ...]:
    """IANA zones a person may live in (no ``Etc/`` offsets or legacy aliases), sorted."""
    legacy = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")
    places = sorted(z for z in available_timezones() if "/" in z and not z.startswith(legacy))
    return (*places, "UTC")


async def _page(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    own = await own_zone(session, signed.actor)
    context = {
        "zones": zones(),
        "chosen": own.chosen,
        "firm_zone": own.firm_zone,
        "now": utcnow(),
        "error": error,
        "rows": await _own_rows(session, signed),
    }
    return render(request, "settings.html", context, signed=signed, status_code=status_code)


async def _own_rows(session: SessionDep, signed: SignedIn) -> list[SettingRow]:
    """The user's own preferences as their level sees them (firm and team rules above)."""
    actor = signed.actor
    scope = await resolve_scope(session, actor, Level.USER, None, actor.user_id)
    states = [s for s in await read_settings(session, actor, scope) if s.spec.user_editable]
    return await rows_of(session, actor.firm_id, states, you=actor.user_id)


@router.get(PAGE)
async def settings_page(
    request: Request, session: SessionDep, signed: CurrentWebSession
) -> Response:
    return await _page(request, session, signed)


@router.post(PAGE)
async def save(
    request: Request,
    session: SessionDep,
    signed: CsrfChecked,
    time_zone: Annotated[str, Form()] = "",
) -> Response:
    """An empty zone follows the firm's."""
    if time_zone and time_zone not in zones():
        return await _page(request, session, signed, status_code=422,
                           error=f"{time_zone!r} is not a time zone CaseCal knows")  # fmt: skip
    await set_own_zone(session, signed.actor, time_zone or None)
    return RedirectResponse(f"{PAGE}?done=settings-saved", status_code=303)


@router.post(PAGE + "/values/{key}")
async def save_value(
    request: Request, session: SessionDep, signed: CsrfChecked, key: str
) -> Response:
    """One of the user's own preferences: saved, or removed so the firm's or team's applies."""
    actor = signed.actor
    try:
        scope = await resolve_scope(session, actor, Level.USER, None, actor.user_id)
        await apply_form(session, actor, scope, key, await request.form())
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, signed, error=exc.detail,
                           status_code=exc.status_code)  # fmt: skip
    return RedirectResponse(f"{PAGE}?done=settings-saved#setting-{key.replace('.', '-')}", 303)
