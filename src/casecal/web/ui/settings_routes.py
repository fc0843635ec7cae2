"""Your settings: the time zone pages show times in (the firm's unless the user picks one)."""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from casecal.store.tables import Firm, User, utcnow
from casecal.web.deps import SessionDep
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn
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
    user = await session.get(User, signed.user.id)
    firm = await session.get(Firm, signed.user.firm_id)
    context = {
        "zones": zones(),
        "chosen": user.time_zone if user is not None else None,
        "firm_zone": firm.time_zone if firm is not None else "UTC",
        "now": utcnow(),
        "error": error,
    }
    return render(request, "settings.html", context, signed=signed, status_code=status_code)


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
    user = await session.get(User, signed.user.id)
    if user is not None:
        user.time_zone = time_zone or None
        await session.commit()
    return RedirectResponse(f"{PAGE}?done=settings-saved", status_code=303)
