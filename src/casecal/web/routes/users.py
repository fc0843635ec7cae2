"""`/users` and their API tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from casecal.services import users as svc
from casecal.web.deps import CurrentActor, SessionDep
from casecal.web.routes._common import DEFAULT, Limit, Offset
from casecal.web.schemas.common import Page, page_of
from casecal.web.schemas.users import (
    TokenCreate,
    TokenIssued,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", summary="List the firm's users", response_model=Page[UserPublic])
async def list_users(
    session: SessionDep, actor: CurrentActor, limit: Limit = DEFAULT, offset: Offset = 0
) -> dict[str, object]:
    page = await svc.list_users(session, actor, limit=limit, offset=offset)
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Create a user (firm admin)", response_model=UserPublic)
async def create_user(session: SessionDep, actor: CurrentActor, body: UserCreate) -> object:
    return await svc.create_user(session, actor, body.model_dump())


@router.get("/{user_id}", summary="Get a user", response_model=UserPublic)
async def get_user(session: SessionDep, actor: CurrentActor, user_id: uuid.UUID) -> object:
    return await svc.get_user(session, actor, user_id)


@router.patch("/{user_id}", summary="Change a user (firm admin)", response_model=UserPublic)
async def update_user(
    session: SessionDep, actor: CurrentActor, user_id: uuid.UUID, body: UserUpdate
) -> object:
    return await svc.update_user(session, actor, user_id, body.changes())


@router.post(
    "/{user_id}/tokens",
    status_code=201,
    summary="Create an API token (firm admin or the user)",
    description="The token is in this response only; CaseCal stores just its SHA-256.",
    response_model=TokenIssued,
)
async def create_token(
    session: SessionDep, actor: CurrentActor, user_id: uuid.UUID, body: TokenCreate
) -> object:
    return await svc.create_token(session, actor, user_id, body.name)


@router.get(
    "/{user_id}/tokens",
    summary="List a user's API tokens (firm admin or the user)",
    response_model=Page[TokenPublic],
)
async def list_tokens(
    session: SessionDep,
    actor: CurrentActor,
    user_id: uuid.UUID,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
) -> dict[str, object]:
    page = await svc.list_tokens(session, actor, user_id, limit=limit, offset=offset)
    return page_of(page.items, total=page.total, limit=limit, offset=offset)


@router.delete(
    "/{user_id}/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API token (firm admin or the user)",
)
async def revoke_token(
    session: SessionDep, actor: CurrentActor, user_id: uuid.UUID, token_id: uuid.UUID
) -> None:
    await svc.revoke_token(session, actor, user_id, token_id)
