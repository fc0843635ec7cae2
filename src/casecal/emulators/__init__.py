"""Stateful, strict stand-ins for Google Calendar + Google OAuth and Microsoft Graph + the
Microsoft identity platform, as ASGI apps, with fault injection and a request log."""
