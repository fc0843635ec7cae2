"""`/users/{user_id}/aliases`: the external accounts a firm admin allows to authorise a case
manager's calendar (for people whose provider login differs from their CaseCal email)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from casecal.services import aliases as svc
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset
from casecal.web.schemas.aliases import AliasCreate, AliasPublic
from casecal.web.schemas.common import Page, page_of

router = APIRouter(prefix="/users/{user_id}/aliases", tags=["users"])


@router.get("", summary="List a user's identity aliases (firm admin)",
            response_model=Page[AliasPublic])  # fmt: skip
async def list_aliases(
    session: SessionDep,
    actor: CurrentActor,
    user_id: uuid.UUID,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
) -> dict[str, object]:
    page = await svc.list_aliases(session, actor, user_id, limit=limit, offset=offset)
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Allow an identity alias (firm admin)",
             response_model=AliasPublic)  # fmt: skip
async def allow_alias(
    session: SessionDep, actor: CurrentActor, user_id: uuid.UUID, body: AliasCreate
) -> object:
    return await svc.allow_alias(session, actor, user_id, body.provider, body.account_email)


@router.delete("/{alias_id}", status_code=204, response_class=Response,
               summary="Remove an identity alias (firm admin)")  # fmt: skip
async def remove_alias(
    session: SessionDep, actor: CurrentActor, user_id: uuid.UUID, alias_id: uuid.UUID
) -> None:
    await svc.remove_alias(session, actor, user_id, alias_id)
