"""Whether a firm lets a provider mail invitations: the per-kind opt-in in its settings.

CaseCal never causes an invitation unless the firm turns it on. Google writes always say
``sendUpdates=none``; Graph has no such switch, so on Graph the attendees of an entry are
written as attendees (and mailed) only for the kinds a firm lists, e.g.
``{"graph_invite_attendees": ["appointment"]}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from casecal.domain.entries import EntryKind

GRAPH_INVITE_SETTING = "graph_invite_attendees"


def graph_invite_kinds(settings: Mapping[str, object] | None) -> frozenset[EntryKind]:
    """The entry kinds whose attendees Graph may invite; unknown names are ignored."""
    listed = (settings or {}).get(GRAPH_INVITE_SETTING)
    if not isinstance(listed, list | tuple):
        return frozenset()
    known = {kind.value: kind for kind in EntryKind}
    return frozenset(known[name] for name in listed if isinstance(name, str) and name in known)
