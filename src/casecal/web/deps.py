"""Request dependencies: the database session, the authenticated caller, the admin check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.api_tokens import authenticate
from casecal.services.access import Actor, require_admin


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; whatever a use case did not commit is rolled back at the end."""
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="An API token (`cc_...`) created with `POST /api/v1/users/{user_id}/tokens` "
    "or `casecal firm create`.",
)


async def current_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "an Authorization: Bearer <token> header is required",
            {"WWW-Authenticate": "Bearer"},
        )
    user = await authenticate(session, credentials.credentials)
    if user is None:
        raise HTTPException(
            401, "the token is unknown, revoked or its user is deactivated",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )  # fmt: skip
    return Actor.of(user)


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def admin_actor(actor: CurrentActor) -> Actor:
    require_admin(actor, "do this")
    return actor


AdminActor = Annotated[Actor, Depends(admin_actor)]
