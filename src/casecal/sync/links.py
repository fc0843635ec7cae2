"""Link rows of one connection: lookup by remote id or by host entry, and saving a settled pair."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.plan import LinkState
from casecal.store.tables import Connection, EntryKind, Link


class LinkStore:
    def __init__(self, session: AsyncSession, connection: Connection) -> None:
        self.session = session
        self.connection = connection

    def _scope(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (
            Link.firm_id == self.connection.firm_id,
            Link.connection_id == self.connection.id,
        )

    async def by_remote(self, remote_id: str) -> Link | None:
        query = select(Link).where(*self._scope(), Link.remote_id == remote_id)
        return (await self.session.scalars(query)).first()

    async def by_entry(self, kind: EntryKind, entry_id: uuid.UUID) -> Link | None:
        query = select(Link).where(
            *self._scope(),
            Link.entry_kind == kind,
            Link.entry_id == entry_id,
        )
        return (await self.session.scalars(query)).first()

    async def live_count(self) -> int:
        query = select(func.count()).where(*self._scope(), Link.tombstoned_at.is_(None))
        return int(await self.session.scalar(query) or 0)

    async def synced_versions(self) -> dict[tuple[EntryKind, uuid.UUID], int]:
        """(kind, entry id) -> the host version each live link was last synced at."""
        query = select(Link.entry_kind, Link.entry_id, Link.host_version).where(
            *self._scope(), Link.tombstoned_at.is_(None)
        )
        return {(k, e): v for k, e, v in (await self.session.execute(query)).all()}

    async def remote_ids(self) -> set[str]:
        """Every linked remote id, tombstoned links included (their events are known too)."""
        query = select(Link.remote_id).where(*self._scope())
        return set((await self.session.scalars(query)).all())

    async def live_remote_ids(self) -> set[str]:
        query = select(Link.remote_id).where(*self._scope(), Link.tombstoned_at.is_(None))
        return set((await self.session.scalars(query)).all())

    def save(
        self,
        link: Link | None,
        *,
        kind: EntryKind,
        entry_id: uuid.UUID,
        remote_id: str,
        etag: str | None,
        host_fingerprint: str,
        remote_fingerprint: str,
        host_version: int,
        tombstoned_at: datetime | None = None,
        remote_delete_respected: bool = False,
    ) -> Link:
        """Insert or update the link of a settled pair."""
        if link is None:
            link = Link(
                id=uuid.uuid4(),
                firm_id=self.connection.firm_id,
                connection_id=self.connection.id,
                entry_kind=kind,
                entry_id=entry_id,
            )
            self.session.add(link)
        link.remote_id = remote_id
        link.remote_etag = etag or ""
        link.host_fingerprint = host_fingerprint
        link.remote_fingerprint = remote_fingerprint
        link.host_version = host_version
        link.tombstoned_at = tombstoned_at
        link.remote_delete_respected = remote_delete_respected
        return link


def link_state(link: Link | None) -> LinkState | None:
    if link is None:
        return None
    return LinkState(
        kind=link.entry_kind,
        remote_id=link.remote_id,
        etag=link.remote_etag or None,
        host_fingerprint=link.host_fingerprint,
        remote_fingerprint=link.remote_fingerprint,
        tombstoned_at=link.tombstoned_at,
        remote_delete_respected=link.remote_delete_respected,
    )
