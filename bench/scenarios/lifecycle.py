"""Initial push of N host entries to a new connection, then a no-op pass, then an incremental
pass after 1% edits and 0.5% deletes on each side, then two more no-op passes (the first still
reads back the echo of the incremental pass's own writes), then (on the same
connection) the host->remote and remote->host latencies over repeated single changes."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from bench import minimums
from bench.report import Sample
from bench.scenarios import latency, webhook
from bench.scenarios.common import Setup, setup
from bench.workload import host_specs, pick
from casecal.store.tables import Link

EDIT_SHARE, DELETE_SHARE = 0.01, 0.005


async def run(base: str, provider: str, size: int, latency_changes: int = 0) -> list[Sample]:
    async with setup(base, provider) as s:
        entry_ids = await s.host.add(host_specs(size, now=datetime.now(UTC)))
        push, _ = await s.measure(
            s.host.sync, scenario="push", size=size,
            minimum=minimums.push(provider, size), events=size,
        )  # fmt: skip
        samples = [push, await _noop(s, size, "noop")]
        deleted = await _incremental(s, size, entry_ids, samples)
        samples.append(await _noop(s, size, "noop-after-changes"))
        samples.append(await _noop(s, size, "noop-steady"))
        if latency_changes > 0:
            live = [e for e in entry_ids if e not in deleted]
            samples.append(await latency.host_to_remote(s, live, latency_changes))
            if latency.has_receiver():
                samples.append(await webhook.remote_to_host(s, latency_changes))
        return samples


async def _noop(s: Setup, size: int, name: str) -> Sample:
    sample, _ = await s.measure(
        s.host.sync, scenario=name, size=size, minimum=minimums.noop(), events=0
    )
    return sample


async def _incremental(
    s: Setup, size: int, entry_ids: list[uuid.UUID], samples: list[Sample]
) -> set[uuid.UUID]:
    """Appends the incremental sample; returns the entries deleted on either side."""
    rng = random.Random(size)
    host_edit = pick(size, EDIT_SHARE, rng)
    host_delete = pick(size, DELETE_SHARE, rng, frozenset(host_edit))
    touched = frozenset(host_edit + host_delete)
    async with s.host.sessionmaker() as session:
        links = {link.entry_id: link.remote_id for link in await session.scalars(select(Link))}
    remote_ids = [links[e] for e in entry_ids]
    remote_edit = pick(size, EDIT_SHARE, rng, touched)
    remote_delete = pick(size, DELETE_SHARE, rng, touched | frozenset(remote_edit))
    await s.host.retitle([entry_ids[i] for i in host_edit], "host")
    await s.host.delete([entry_ids[i] for i in host_delete])
    for i in remote_edit:
        await s.account.retitle(remote_ids[i], f"Edited remotely {i}")
    for i in remote_delete:
        await s.account.delete(remote_ids[i])
    host_writes = len(host_edit) + len(host_delete)
    changes = host_writes + len(remote_edit) + len(remote_delete)
    sample, _ = await s.measure(
        s.host.sync, scenario="incremental", size=size,
        minimum=minimums.incremental(s.account.provider_name, host_writes, len(remote_delete)),
        events=changes,
    )  # fmt: skip
    samples.append(sample)
    return {entry_ids[i] for i in host_delete + remote_delete}
