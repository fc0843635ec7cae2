"""What both adapters' batch writes share: chunking, and running one op on its own (for parts
a batch could not settle)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from casecal.providers.base import CreateOp, Provider, UpdateOp, WriteOp, WriteResult
from casecal.providers.errors import ProviderError

Outcome = WriteResult | ProviderError
Chunk = Callable[[str, Sequence[WriteOp]], Awaitable[list[Outcome]]]


async def in_chunks(
    calendar_id: str, ops: Sequence[WriteOp], size: int, run: Chunk
) -> list[Outcome]:
    """Run ``ops`` through ``run`` in chunks of at most ``size``; results keep the order."""
    results: list[Outcome] = []
    for start in range(0, len(ops), size):
        results += await run(calendar_id, ops[start : start + size])
    return results


async def write_one(provider: Provider, calendar_id: str, op: WriteOp) -> WriteResult:
    """One op through the adapter's own single-item method (and so the retry rules)."""
    if isinstance(op, CreateOp):
        return await provider.create_event(calendar_id, op.event, op.tag, changed=op.changed)
    if isinstance(op, UpdateOp):
        return await provider.update_event(
            calendar_id, op.event_id, op.event, op.tag, etag=op.etag, changed=op.changed
        )
    await provider.delete_event(calendar_id, op.event_id, etag=op.etag)
    return WriteResult(id=op.event_id, etag=None)
