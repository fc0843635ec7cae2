"""A connection's state as the Calendar Sync pages show it, decided from facts about the row
without I/O: one label, what it means, what fixes it (for the case manager and for the firm
admin) and the actions offered, fix first."""

from __future__ import annotations

from dataclasses import dataclass

from casecal.store.tables import ConnectionStatus


@dataclass(frozen=True)
class StateView:
    """A connection's state as the status panel shows it."""

    key: str
    label: str
    tone: str
    """``ok``, ``busy``, ``warn``, ``bad`` or ``muted`` (a CSS class)."""
    explanation: str
    actions: tuple[str, ...]
    """Among ``choose``, ``connect_again``, ``sync``, ``modify``, ``confirm``, ``disconnect``
    and ``cancel``, the fix first."""
    admin_fix: str = ""
    """What the firm admin can do about it (their page's one line), if anything."""


@dataclass(frozen=True)
class ConnectionFacts:
    """What the page knows about a connection beyond its status."""

    status: ConnectionStatus
    authorised: bool = True
    """The provider granted CaseCal access at least once (tokens are stored)."""
    syncing: bool = False
    reason: str = ""
    consent_granted: bool = False
    """Microsoft only: the firm recorded admin consent for the connection's tenant."""


ACTION_LABELS = {
    "sync": "Sync now",
    "modify": "Modify",
    "connect_again": "Connect again",
    "confirm": "Confirm deletions",
    "disconnect": "Disconnect",
    "cancel": "Cancel",
}
"""The button of each posted action (``choose`` is a link)."""

ACTION_PATHS = {
    "sync": "sync",
    "modify": "modify",
    "connect_again": "modify",
    "confirm": "confirm-deletions",
    "disconnect": "disconnect",
    "cancel": "disconnect",
}
"""The form each action posts to, under ``/calendar-sync/connections/<id>/``."""

_SYNCING = StateView("syncing", "Syncing", "busy", "A sync pass is running now.",
                     ("modify", "disconnect"))  # fmt: skip
_UNFINISHED = StateView(
    "unfinished", "Connection not finished", "warn",
    "You started connecting but did not finish signing in with your provider, so CaseCal has "
    "no access to your calendar yet. Connect again to finish, or cancel.",
    ("connect_again", "cancel"),
    "The case manager started connecting but did not finish.",
)  # fmt: skip
_CONSENT_GRANTED = StateView(
    "consent_granted", "Approved: finish connecting", "warn",
    "Your IT admin approved CaseCal for your organisation. Click Modify to finish connecting "
    "your calendar; IT is not needed again.",
    ("modify", "disconnect"),
    "Consent is recorded; the case manager finishes with Modify.",
)  # fmt: skip
_VIEWS = {
    ConnectionStatus.ACTIVE: StateView(
        "active", "Active", "ok", "Changes flow both ways.", ("sync", "modify", "disconnect")
    ),
    ConnectionStatus.PENDING: StateView(
        "pending", "Choose a calendar", "warn",
        "The account is authorised; pick the calendar CaseCal writes to.",
        ("choose", "disconnect"),
        "The case manager has yet to choose a calendar.",
    ),
    ConnectionStatus.NEEDS_REAUTH: StateView(
        "needs_reauth", "Needs re-authorisation", "bad",
        "The provider no longer accepts CaseCal's access. Sign in again with Modify; "
        "syncing resumes where it stopped.",
        ("modify", "disconnect"),
        "The case manager signs in again with Modify.",
    ),
    ConnectionStatus.AWAITING_CONSENT: StateView(
        "awaiting_consent", "Awaiting admin consent", "warn",
        "Your organisation requires an administrator to approve CaseCal. Once they have, "
        "finish with Modify.",
        ("modify", "disconnect"),
        "Grant consent for the tenant in the Microsoft admin consent panel below.",
    ),
    ConnectionStatus.AWAITING_APPROVAL: StateView(
        "awaiting_approval", "Awaiting approval", "warn",
        "Your firm asks an admin to approve each calendar connection. Your calendar is "
        "authorised; nothing syncs until it is approved, then syncing starts at once.",
        ("disconnect",),
        "Approve or decline it under Connections waiting for approval.",
    ),
    ConnectionStatus.PAUSED_DELETIONS: StateView(
        "paused_deletions", "Paused by the deletion guard", "bad",
        "Many events disappeared at once, so sync stopped before deleting anything. "
        "Confirm the deletions if they were intended.",
        ("confirm", "disconnect"),
        "The case manager confirms the deletions if they were intended.",
    ),
    ConnectionStatus.PAUSED_NO_SEAT: StateView(
        "paused_no_seat", "Paused: no seat", "bad",
        "Your Calendar Sync seat was removed, so nothing syncs; nothing was deleted from your "
        "calendar. Ask your firm admin for a seat: syncing resumes where it stopped.",
        ("disconnect",),
        "The seat was removed. Add the seat again to resume syncing where it stopped.",
    ),
    ConnectionStatus.PAUSED_SUBSCRIPTION: StateView(
        "paused_subscription", "Paused: subscription cancelled", "bad",
        "Your firm's Calendar Sync subscription is cancelled, so nothing syncs; nothing was "
        "deleted from your calendar. Syncing resumes where it stopped when your firm admin "
        "subscribes again.",
        ("disconnect",),
        "The subscription is cancelled. Subscribe again to resume syncing where it stopped.",
    ),
    ConnectionStatus.DISCONNECTED: StateView(
        "disconnected", "Disconnected", "muted", "Nothing is synced.", ()
    ),
}  # fmt: skip


def connection_state(facts: ConnectionFacts) -> StateView:
    """The one state a connection is in, as a page shows it."""
    status = facts.status
    if status is ConnectionStatus.ACTIVE and facts.syncing:
        return _SYNCING
    if status is ConnectionStatus.PENDING and not facts.authorised:
        return _UNFINISHED
    if status is ConnectionStatus.AWAITING_CONSENT and facts.consent_granted:
        return _CONSENT_GRANTED
    view = _VIEWS[status]
    own_words = (ConnectionStatus.ACTIVE, ConnectionStatus.DISCONNECTED,
                 ConnectionStatus.AWAITING_APPROVAL)  # fmt: skip
    if not facts.reason or status in own_words:
        return view
    if status is ConnectionStatus.AWAITING_CONSENT:  # the consent flow's own words
        return StateView(view.key, view.label, view.tone, facts.reason, view.actions,
                         view.admin_fix)  # fmt: skip
    return StateView(view.key, view.label, view.tone, f"{view.explanation} ({facts.reason})",
                     view.actions, view.admin_fix)  # fmt: skip
