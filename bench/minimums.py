"""The theoretical minimum number of HTTP requests of each scenario (derivations in
bench/README.md). Pure arithmetic on the provider limits the design documents."""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil

BATCH = {"google": 50, "microsoft": 20}
"""Writes per batch request: Google batch (CaseCal's chunk of 50), Graph ``$batch`` (20)."""
PAGE = {"google": 2500, "microsoft": 1000}
"""Largest listing page: Google ``maxResults`` 2500; Graph ``odata.maxpagesize`` taken as its
``$top`` ceiling of 1000."""


def writes(provider: str, n: int) -> int:
    return ceil(n / BATCH[provider]) if n > 0 else 0


def push(provider: str, n: int) -> int:
    """Initial push of ``n`` entries to an empty calendar: one (empty) full listing, then the
    creates in batches."""
    return 1 + writes(provider, n)


def initial_import(provider: str, listed: int, stored: int) -> int:
    """Initial import: the full listing in the largest pages; Graph also needs the tags, which
    delta never returns: one filtered ``/events`` list with ``$expand`` per 1000 stored items."""
    pages = max(1, ceil(listed / PAGE[provider]))
    if provider == "microsoft" and stored > 0:
        pages += ceil(stored / PAGE[provider])
    return pages


def incremental(provider: str, host_writes: int, remote_deleted: int) -> int:
    """An incremental pass: one change-feed page (the changes fit in one) and the host's writes
    in batches. Remote edits of linked events need no tag read (the link names the event). On
    Graph a removal may only mean "left the window", so each linked removal is read to
    confirm it (``$batch`` of 20 GETs); Google's cancelled items are deletions."""
    confirm = writes(provider, remote_deleted) if provider == "microsoft" else 0
    return 1 + writes(provider, host_writes) + confirm


def noop() -> int:
    """Nothing changed on either side: the one change-feed request that says so."""
    return 1


def single_change() -> int:
    """One host change: the change-feed request, then the one write."""
    return 2


def ratio(requests: int, minimum: int) -> float:
    return requests / minimum if minimum > 0 else float("inf")


def remote_change(provider: str) -> int:
    """One remote edit of a linked event, announced by push: the change-feed request (the
    link names the event, so Graph needs no tag read either)."""
    return 1


def fleet(provider: str, host_writes: Sequence[int]) -> int:
    """A stream of changes over many connections, grouped by the pass that carried them
    (``host_writes`` holds each group's number of host-edited events): each group costs one
    change-feed read and its host writes in batches. Remote edits of linked events need no
    tag read on Graph: the adapter reads tags only of ids the connection does not know."""
    return sum(1 + writes(provider, n) for n in host_writes)
