"""The Google Calendar v3 adapter as a package: the adapter itself (``adapter``), the event
JSON format (``json``), its translation to the adapter's values (``codec``) and the wire
details of errors and the multipart batch endpoint (``wire``)."""

from casecal.providers.google.adapter import CAPABILITIES, GoogleCalendarProvider

__all__ = ["CAPABILITIES", "GoogleCalendarProvider"]
