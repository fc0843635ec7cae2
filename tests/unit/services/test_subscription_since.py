"""The "since" a page shows beside the subscription's status is when it entered that status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from casecal.services.subscriptions import status_since
from casecal.store.tables import Subscription, SubscriptionStatus

REQUESTED = datetime(2026, 1, 1, tzinfo=UTC)
ACTIVATED = datetime(2026, 2, 1, tzinfo=UTC)
CANCELLED = datetime(2026, 3, 1, tzinfo=UTC)


def _sub(status: SubscriptionStatus) -> Subscription:
    return Subscription(
        id=uuid.uuid4(), firm_id=uuid.uuid4(), status=status, requested_at=REQUESTED,
        activated_at=ACTIVATED, cancelled_at=CANCELLED,
    )  # fmt: skip


def test_a_cancelled_subscription_is_cancelled_since_its_cancellation() -> None:
    assert status_since(_sub(SubscriptionStatus.CANCELLED)) == CANCELLED


def test_active_and_requested_since_their_own_times() -> None:
    assert status_since(_sub(SubscriptionStatus.ACTIVE)) == ACTIVATED
    assert status_since(_sub(SubscriptionStatus.REQUESTED)) == REQUESTED
