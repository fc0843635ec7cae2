"""Whether a provider may mail invitations: the legacy firm key of the per-kind opt-in.

CaseCal never causes an invitation unless the firm turns it on. Google writes always say
``sendUpdates=none``; Graph has no such switch, so on Graph the attendees of an entry are
written as attendees (and mailed) only for the kinds the setting `invitations.graph_attendees`
lists (``EffectiveSettings.invite_kinds``). Firms that set the older
``{"graph_invite_attendees": [...]}`` in their settings JSON keep it: the catalogue reads it as
the firm's own value.
"""

from __future__ import annotations

GRAPH_INVITE_SETTING = "graph_invite_attendees"
