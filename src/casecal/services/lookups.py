"""Firm-scoped fetches: a row of another firm is reported exactly like a missing one."""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from casecal.errors import NotFound, ValidationFailed
from casecal.store.tables import Firm, Role, User


class _FirmRow(Protocol):
    id: Any
    firm_id: Any


RowT = TypeVar("RowT", bound=_FirmRow)

_LABELS = {
    "users": "user",
    "api_tokens": "API token",
    "teams": "team",
    "cases": "case",
    "appointments": "appointment",
    "court_dates": "court date",
    "interviews": "interview",
    "step_reminders": "step reminder",
}


def label(model: type[Any]) -> str:
    return _LABELS.get(str(model.__tablename__), str(model.__tablename__))


async def get_in_firm(
    session: AsyncSession,
    model: type[RowT],
    row_id: uuid.UUID,
    firm_id: uuid.UUID,
    *,
    field: str | None = None,
    live_only: bool = False,
) -> RowT:
    """The row ``row_id`` of ``model`` in ``firm_id``, or NotFound (naming ``field`` if given)."""
    id_col: InstrumentedAttribute[Any] = getattr(model, "id")  # noqa: B009 - generic access
    firm_col: InstrumentedAttribute[Any] = getattr(model, "firm_id")  # noqa: B009
    query = select(model).where(id_col == row_id, firm_col == firm_id)
    if live_only:
        query = query.where(getattr(model, "deleted_at").is_(None))  # noqa: B009
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        noun = label(model)
        where = f" (field {field})" if field else ""
        raise NotFound(f"no {noun} with id {row_id} in this firm{where}", field=field)
    return row


async def get_firm(session: AsyncSession, firm_id: uuid.UUID) -> Firm:
    firm = await session.get(Firm, firm_id)
    if firm is None:
        raise NotFound(f"no firm with id {firm_id}")
    return firm


async def get_case_manager(
    session: AsyncSession, user_id: uuid.UUID, firm_id: uuid.UUID, field: str
) -> User:
    """An active case manager of the firm: 404 if not in the firm, 422 if of another role."""
    user = await get_in_firm(session, User, user_id, firm_id, field=field)
    if user.role is not Role.CASE_MANAGER or not user.is_active:
        raise ValidationFailed(
            f"user {user_id} is not an active case manager (role {user.role.value})", field=field
        )
    return user
