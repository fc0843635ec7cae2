"""The states a calendar connection can be in. A pure value: the store keeps it in a column
(``casecal.store.tables`` re-exports it), and the entitlement rules decide with it without
importing the store."""

from __future__ import annotations

import enum


class ConnectionStatus(enum.StrEnum):
    PENDING = "pending"  # authorised, calendar not chosen yet
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"  # refresh token revoked or expired: no provider calls
    AWAITING_CONSENT = "awaiting_consent"  # Microsoft tenant requires admin consent
    AWAITING_APPROVAL = "awaiting_approval"  # authorised; waits for a firm or team admin
    PAUSED_DELETIONS = "paused_deletions"  # the mass-delete guard tripped; waits for a confirm
    PAUSED_NO_SEAT = "paused_no_seat"  # the user's seat was removed: no sync until it is back
    PAUSED_SUBSCRIPTION = "paused_subscription"  # the firm's subscription is cancelled
    DISCONNECTED = "disconnected"
