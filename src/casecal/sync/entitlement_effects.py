"""After a seat or subscription change commits: stop the push channels of the connections it
paused, and for those it resumed open a channel again and kick their first pass (which
starts from the saved cursor). Listens to one sessionmaker's commits, like the outbox trigger;
a lost effect is repaired anyway (a paused connection's channel is stopped at its renewal,
its notifications start no pass, and a resumed connection is marked dirty for the sweep)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from casecal.sync.kicks import Kicker

log = structlog.get_logger("casecal.sync")

EFFECTS = "casecal_entitlement_effects"
"""``session.info`` key: the ``Effects`` of this transaction, read after its commit."""


@dataclass
class Effects:
    """The connections a transaction paused and resumed (``casecal.services.entitlements``)."""

    paused: set[uuid.UUID] = field(default_factory=set)
    resumed: set[uuid.UUID] = field(default_factory=set)


def effects_of(session: AsyncSession) -> Effects:
    """This transaction's ``Effects``, created on first use."""
    found: Effects = session.info.setdefault(EFFECTS, Effects())
    return found


class Channels(Protocol):
    async def open(self, connection_id: uuid.UUID) -> object: ...

    async def close(self, connection_id: uuid.UUID) -> int: ...


async def carry_out(channels: Channels, kicker: Kicker, effects: Effects) -> None:
    for connection_id in sorted(effects.paused):
        try:
            await channels.close(connection_id)
        except Exception as exc:  # one provider failing must not keep the others open
            log.warning("paused connection's channel not stopped; it will lapse",
                        connection_id=str(connection_id), error=repr(exc))  # fmt: skip
    for connection_id in sorted(effects.resumed):
        try:
            await channels.open(connection_id)
        except Exception as exc:  # polling covers a connection without a channel
            log.warning("resumed connection's channel not opened; polling instead",
                        connection_id=str(connection_id), error=repr(exc))  # fmt: skip
        await kicker.kick(connection_id, trigger="resumed")


class EntitlementEffects:
    """Carries out the ``Effects`` a committed transaction noted in ``session.info``."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], channels: Channels, kicker: Kicker
    ) -> None:
        self.channels = channels
        self.kicker = kicker
        self._tasks: set[asyncio.Task[None]] = set()
        session_class = sessionmaker.kw.get("sync_session_class")
        if session_class is None or session_class is Session:
            raise TypeError("give the sessionmaker its own sync_session_class to listen to")
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        effects: Effects | None = session.info.pop(EFFECTS, None)
        if effects is not None and (effects.paused or effects.resumed):
            task = asyncio.get_running_loop().create_task(
                carry_out(self.channels, self.kicker, effects)
            )
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(EFFECTS, None)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("entitlement effects failed", error=repr(task.exception()))

    async def settle(self) -> None:
        """Wait for the effects in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
