"""Offset paging with a total: one page of rows in a deterministic order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def fetch_page(
    session: AsyncSession,
    query: Select[Any],
    *,
    order_by: tuple[Any, ...],
    limit: int,
    offset: int,
) -> Page[T]:
    """Run ``query`` for one page; ``order_by`` must end with a unique column."""
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    result = await session.execute(query.order_by(*order_by).limit(limit).offset(offset))
    items = cast(list[T], list(result.scalars()))
    return Page(items=items, total=int(total), limit=limit, offset=offset)
