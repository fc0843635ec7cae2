"""Fixtures of the push and scheduling tests: the sync world of ``tests/integration/sync``
with the webhook receivers, metrics, channel manager and scheduler wired into its app."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))

from push_support import pushed
from sync_world import world

__all__ = ["pushed", "world"]
