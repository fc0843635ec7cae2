"""Setup > Firm settings: a firm admin sees every setting of the firm or of one team, where
each value comes from, and sets, locks or removes values there."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from casecal.domain.settings_catalog import Level
from casecal.errors import DomainError
from casecal.services.consents import consent_panel
from casecal.services.firm_settings import read_settings, resolve_scope
from casecal.services.sync_view import tenant_domains
from casecal.services.teams import teams_by_name
from casecal.web.deps import SessionDep
from casecal.web.ui.session import CsrfChecked, CurrentWebSession, SignedIn, settings_of
from casecal.web.ui.setting_forms import apply_form, rows_of
from casecal.web.ui.templating import render

router = APIRouter()

PAGE = "/firm-settings"


def _team_id(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return uuid.UUID(int=0)  # no such team: reported as missing like another firm's


async def _page(
    request: Request,
    session: SessionDep,
    signed: SignedIn,
    team_id: uuid.UUID | None,
    *,
    error: str = "",
    status_code: int = 200,
) -> Response:
    if not signed.is_admin:
        return render(request, "firm_settings.html", {"error": "Only a firm admin manages the "
                      "firm's settings."}, signed=signed, status_code=403)  # fmt: skip
    actor = signed.actor
    teams = await teams_by_name(session, actor)
    context: dict[str, Any] = {"teams": teams, "team": None, "error": error}
    try:
        level = Level.FIRM if team_id is None else Level.TEAM
        scope = await resolve_scope(session, actor, level, team_id, None)
        states = await read_settings(session, actor, scope)
    except DomainError as exc:
        return render(request, "firm_settings.html", context | {"error": exc.detail},
                      signed=signed, status_code=exc.status_code)  # fmt: skip
    context["team"] = next((t for t in teams if t.id == scope.team_id), None)
    context["rows"] = await rows_of(session, actor.firm_id, states, you=actor.user_id)
    context["hidden"] = {} if scope.team_id is None else {"team_id": str(scope.team_id)}
    if scope.team_id is None:  # the firm's one consent for the calendar integration
        context["consents"] = await consent_panel(session, actor, settings_of(request))
        context["tenant_domains"] = await tenant_domains(session, actor.firm_id)
    return render(request, "firm_settings.html", context, signed=signed, status_code=status_code)


@router.get(PAGE)
async def firm_settings_page(
    request: Request, session: SessionDep, signed: CurrentWebSession
) -> Response:
    return await _page(request, session, signed, _team_id(request.query_params.get("team_id")))


@router.post(PAGE + "/{key}")
async def save(request: Request, session: SessionDep, signed: CsrfChecked, key: str) -> Response:
    form = await request.form()
    team_id = _team_id(form.get("team_id"))
    try:
        if not signed.is_admin:
            return await _page(request, session, signed, team_id)
        level = Level.FIRM if team_id is None else Level.TEAM
        scope = await resolve_scope(session, signed.actor, level, team_id, None)
        await apply_form(session, signed.actor, scope, key, form)
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, signed, team_id, error=exc.detail,
                           status_code=exc.status_code)  # fmt: skip
    query = {"team_id": str(team_id)} if team_id else {}
    return RedirectResponse(f"{PAGE}?{urlencode(query | {'done': 'settings-saved'})}", 303)
