"""Fixtures of the connect tests (the world itself lives in ``connect_world``)."""

from connect_world import app_settings, inbox, world

__all__ = ["app_settings", "inbox", "world"]
