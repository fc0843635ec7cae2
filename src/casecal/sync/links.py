"""Link rows of one connection: lookup by remote id or by host entry, and saving a settled pair."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.domain.plan import LinkState
from casecal.store.tables import Connection, EntryKind, Link, utcnow

CHUNK = 500
"""Ids per IN query (well under SQLite's and PostgreSQL's parameter limits)."""


@dataclass(frozen=True, slots=True)
class SettledLink:
    """What a settled remote write leaves on its link (``LinkStore.save_many``): a live
    link, its tombstone and respected-delete mark cleared, as ``LinkStore.save`` leaves it."""

    link_id: uuid.UUID | None
    """The link to update; None inserts one."""
    kind: EntryKind
    entry_id: uuid.UUID
    remote_id: str
    etag: str | None
    host_fingerprint: str
    remote_fingerprint: str
    host_version: int
    occurrences: dict[str, str]


class LinkStore:
    def __init__(self, session: AsyncSession, connection: Connection) -> None:
        self.session = session
        self.connection = connection

    def _scope(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (
            Link.firm_id == self.connection.firm_id,
            Link.connection_id == self.connection.id,
        )

    @property
    def _cache(self) -> dict[str, Link | None]:
        """Links by remote id known to this session (a prefetched page); None = no link."""
        cache: dict[str, Link | None] = self.session.info.setdefault("links_by_remote", {})
        return cache

    async def prefetch(self, remote_ids: Iterable[str]) -> list[Link]:
        """Load the links of many remote ids at once (a page of a change round), so the
        lookups that follow need no query each."""
        wanted = [r for r in dict.fromkeys(remote_ids) if r not in self._cache]
        found: list[Link] = []
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            query = select(Link).where(*self._scope(), Link.remote_id.in_(chunk))
            found.extend((await self.session.scalars(query)).all())
            self._cache.update(dict.fromkeys(chunk))
        for link in found:
            self._cache[link.remote_id] = link
        return found

    async def by_remote(self, remote_id: str) -> Link | None:
        if remote_id in self._cache:
            return self._cache[remote_id]
        query = select(Link).where(*self._scope(), Link.remote_id == remote_id)
        return (await self.session.scalars(query)).first()

    async def by_entry(self, kind: EntryKind, entry_id: uuid.UUID) -> Link | None:
        query = select(Link).where(
            *self._scope(),
            Link.entry_kind == kind,
            Link.entry_id == entry_id,
        )
        return (await self.session.scalars(query)).first()

    async def by_entries(
        self, keys: Iterable[tuple[EntryKind, uuid.UUID]]
    ) -> dict[tuple[EntryKind, uuid.UUID], Link]:
        """The links (tombstoned ones included) of many host entries, in one query per kind
        and ``CHUNK`` ids; an entry without a link is absent from the answer."""
        by_kind: dict[EntryKind, list[uuid.UUID]] = {}
        for kind, entry_id in dict.fromkeys(keys):
            by_kind.setdefault(kind, []).append(entry_id)
        found: dict[tuple[EntryKind, uuid.UUID], Link] = {}
        for kind, ids in by_kind.items():
            for start in range(0, len(ids), CHUNK):
                query = select(Link).where(
                    *self._scope(),
                    Link.entry_kind == kind,
                    Link.entry_id.in_(ids[start : start + CHUNK]),
                )
                for link in (await self.session.scalars(query)).all():
                    found[(link.entry_kind, link.entry_id)] = link
        return found

    async def save_many(self, settled: Sequence[SettledLink]) -> None:
        """Save the links of many settled remote writes: one multi-row INSERT of the new
        ones, one executemany UPDATE of the others (Core statements: no object per row, no
        unit of work). The session's ORM objects of these links, if any, are not refreshed:
        call it in a session that has not loaded them."""
        now = utcnow()
        firm_id, connection_id = self.connection.firm_id, self.connection.id
        new: list[dict[str, object]] = []
        known: list[dict[str, object]] = []
        for s in settled:
            if s.link_id is None:
                new.append({
                    "id": uuid.uuid4(), "firm_id": firm_id, "connection_id": connection_id,
                    "entry_kind": s.kind, "entry_id": s.entry_id, "remote_id": s.remote_id,
                    "remote_etag": s.etag or "", "host_fingerprint": s.host_fingerprint,
                    "remote_fingerprint": s.remote_fingerprint, "host_version": s.host_version,
                    "tombstoned_at": None, "remote_delete_respected": False,
                    "occurrences": s.occurrences, "created_at": now, "updated_at": now,
                })  # fmt: skip
            else:
                known.append({
                    "b_id": s.link_id, "b_remote_id": s.remote_id, "b_etag": s.etag or "",
                    "b_host_fp": s.host_fingerprint, "b_remote_fp": s.remote_fingerprint,
                    "b_version": s.host_version, "b_occurrences": s.occurrences,
                })  # fmt: skip
        links = cast(Table, Link.__table__)
        if new:
            await self.session.execute(insert(links), new)
        if known:
            query = (
                update(links)
                .where(
                    links.c.firm_id == firm_id,
                    links.c.connection_id == connection_id,
                    links.c.id == bindparam("b_id"),
                )
                .values(
                    remote_id=bindparam("b_remote_id"),
                    remote_etag=bindparam("b_etag"),
                    host_fingerprint=bindparam("b_host_fp"),
                    remote_fingerprint=bindparam("b_remote_fp"),
                    host_version=bindparam("b_version"),
                    occurrences=bindparam("b_occurrences"),
                    tombstoned_at=None,
                    remote_delete_respected=False,
                    updated_at=now,
                )
            )
            await self.session.execute(query, known)
        # Links by remote id this session knew may name an old remote id: forget them.
        self.session.info.pop("links_by_remote", None)

    async def tombstone_many(self, link_ids: Sequence[uuid.UUID]) -> None:
        """Tombstone many links (their remote events were deleted) in one statement per
        ``CHUNK`` ids; as for ``save_many``, loaded ORM objects of them are not refreshed."""
        now = utcnow()
        for start in range(0, len(link_ids), CHUNK):
            query = (
                update(Link)
                .where(*self._scope(), Link.id.in_(link_ids[start : start + CHUNK]))
                .values(tombstoned_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            await self.session.execute(query)

    async def live_count(self) -> int:
        query = select(func.count()).where(*self._scope(), Link.tombstoned_at.is_(None))
        return int(await self.session.scalar(query) or 0)

    async def synced_versions(self) -> dict[tuple[EntryKind, uuid.UUID], int]:
        """(kind, entry id) -> the host version each live link was last synced at."""
        query = select(Link.entry_kind, Link.entry_id, Link.host_version).where(
            *self._scope(), Link.tombstoned_at.is_(None)
        )
        return {(k, e): v for k, e, v in (await self.session.execute(query)).all()}

    async def shaped_keys(self) -> list[tuple[EntryKind, uuid.UUID]]:
        """(kind, entry id) of every link whose event CaseCal shapes from the settings (not
        an appointment's): live ones, and those tombstoned by a respected remote delete
        (a policy now restoring brings them back). Oldest first."""
        query = (
            select(Link.entry_kind, Link.entry_id)
            .where(
                *self._scope(),
                Link.entry_kind != EntryKind.APPOINTMENT,
                Link.tombstoned_at.is_(None) | Link.remote_delete_respected,
            )
            .order_by(Link.created_at, Link.id)
        )
        return [(k, e) for k, e in (await self.session.execute(query)).all()]

    async def remote_ids(self) -> tuple[set[str], set[str]]:
        """Every linked remote id (tombstoned links included: their events are known too),
        and those of the tombstoned links (settled as gone)."""
        query = select(Link.remote_id, Link.tombstoned_at.is_not(None)).where(*self._scope())
        rows = (await self.session.execute(query)).all()
        return {r for r, _ in rows}, {r for r, gone in rows if gone}

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
        occurrences: dict[str, str] | None = None,
    ) -> Link:
        """Insert or update the link of a settled pair; ``occurrences`` (a series write's
        changed occurrences) replaces what the link held, None keeps it."""
        if link is None:
            link = Link(
                id=uuid.uuid4(),
                firm_id=self.connection.firm_id,
                connection_id=self.connection.id,
                entry_kind=kind,
                entry_id=entry_id,
            )
            self.session.add(link)
        if self._cache.get(link.remote_id) is link:
            del self._cache[link.remote_id]
        link.remote_id = remote_id
        self._cache[remote_id] = link
        link.remote_etag = etag or ""
        link.host_fingerprint = host_fingerprint
        link.remote_fingerprint = remote_fingerprint
        if occurrences is not None:
            link.occurrences = occurrences
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
