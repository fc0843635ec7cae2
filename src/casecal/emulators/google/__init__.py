"""A stateful, strict emulator of Google Calendar API v3 and Google OAuth 2.0 (one ASGI app)."""

from .app import GoogleEmulator

__all__ = ["GoogleEmulator"]
