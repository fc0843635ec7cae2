"""`/connections` and `/conflicts`: status, sync now, the run log, deletion confirmation and
conflict restore. Case managers see their own connections; firm admins every one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from casecal.services import connections as svc
from casecal.sync.engine import SyncEngine
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset
from casecal.web.schemas.common import Page, page_of
from casecal.web.schemas.connections import (
    ConflictPublic,
    ConnectionPublic,
    PassPublic,
    SyncRunPublic,
)

router = APIRouter(tags=["sync"])


def _engine(request: Request) -> SyncEngine:
    engine: SyncEngine = request.app.state.sync_engine
    return engine


@router.get(
    "/connections",
    summary="List connections",
    description="The caller's connections (a firm admin: every one in the firm), oldest first.",
    response_model=Page[ConnectionPublic],
)
async def list_connections(
    session: SessionDep, actor: CurrentActor, limit: Limit = DEFAULT, offset: Offset = 0
) -> dict[str, object]:
    page = await svc.page_connections(session, actor, limit=limit, offset=offset)
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.get(
    "/connections/{connection_id}", summary="Get a connection", response_model=ConnectionPublic
)
async def get_connection(
    session: SessionDep, actor: CurrentActor, connection_id: uuid.UUID
) -> object:
    return await svc.get_connection(session, actor, connection_id)


@router.post(
    "/connections/{connection_id}/sync",
    summary="Sync now: run one pass and report it",
    response_model=PassPublic,
)
async def sync_now(
    request: Request, session: SessionDep, actor: CurrentActor, connection_id: uuid.UUID
) -> object:
    report = await svc.sync_now(session, actor, connection_id, _engine(request))
    return PassPublic(
        run_id=report.run_id, outcome=report.outcome, counts=report.counts, error=report.error
    )


@router.get(
    "/connections/{connection_id}/runs",
    summary="The sync log of a connection, newest first",
    response_model=list[SyncRunPublic],
)
async def list_runs(
    session: SessionDep,
    actor: CurrentActor,
    connection_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> object:
    return await svc.list_runs(session, actor, connection_id, limit=limit)


@router.post(
    "/connections/{connection_id}/confirm-deletions",
    summary="Release a connection paused by the mass-delete guard",
    description="Allows the deletions the paused pass reported; the next pass carries them out.",
    response_model=ConnectionPublic,
)
async def confirm_deletions(
    session: SessionDep, actor: CurrentActor, connection_id: uuid.UUID
) -> object:
    return await svc.confirm_deletions(session, actor, connection_id)


@router.post(
    "/connections/{connection_id}/cleanup",
    summary="Remove the events CaseCal created in a paused connection's calendar (firm admin)",
    description="For a connection paused by a removed seat or a cancelled subscription. "
    "Imported events stay. A large clean-up answers `paused` first: confirm it with "
    "`POST .../confirm-deletions`, then ask again. The connection stays paused.",
    response_model=PassPublic,
)
async def request_cleanup(
    request: Request, session: SessionDep, actor: CurrentActor, connection_id: uuid.UUID
) -> object:
    report = await svc.request_cleanup(session, actor, connection_id, _engine(request))
    return PassPublic(
        run_id=report.run_id, outcome=report.outcome, counts=report.counts, error=report.error
    )


@router.get(
    "/conflicts",
    summary="Open conflicts, newest first",
    response_model=Page[ConflictPublic],
)
async def list_conflicts(
    session: SessionDep,
    actor: CurrentActor,
    include_restored: Annotated[bool, Query(description="Also restored ones.")] = False,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
) -> dict[str, object]:
    page = await svc.page_conflicts(
        session, actor, include_restored=include_restored, limit=limit, offset=offset
    )
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post(
    "/conflicts/{conflict_id}/restore",
    summary="Bring the losing version of a conflict back",
    response_model=ConflictPublic,
)
async def restore_conflict(
    session: SessionDep, actor: CurrentActor, conflict_id: uuid.UUID
) -> object:
    return await svc.restore_conflict(session, actor, conflict_id)
