"""Fixtures of the engine tests (the world itself lives in ``sync_world``)."""

from sync_world import world

__all__ = ["world"]
