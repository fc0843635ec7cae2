"""After a seat or subscription change commits: stop the push channels of the connections it
paused, and for those it resumed open a channel again and kick their first pass (which
starts from the saved cursor). Listens to one sessionmaker's commits, like the outbox trigger;
a lost effect is repaired anyway (a paused connection's channel is stopped at its renewal,
its notifications start no pass, and a resumed connection is marked dirty for the sweep)."""

from __future__ import annotations

import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.sync.after_commit import AfterCommit
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


class EntitlementEffects(AfterCommit):
    """Carries out the ``Effects`` a committed transaction noted in ``session.info``."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], channels: Channels, kicker: Kicker
    ) -> None:
        self.channels = channels
        self.kicker = kicker
        super().__init__(sessionmaker, EFFECTS, self._carry_out, "entitlement effects failed")

    def _carry_out(self, effects: Effects) -> Coroutine[Any, Any, None] | None:
        if not (effects.paused or effects.resumed):
            return None
        return carry_out(self.channels, self.kicker, effects)
