"""The CalDAV adapter as a package: the adapter (``adapter``), iCalendar resources and the
canonical event (``ical``), WebDAV bodies, multistatus and errors (``dav``), and the Basic
credentials of an app password (``credentials``)."""

from casecal.providers.caldav.adapter import CAPABILITIES, CalDavProvider
from casecal.providers.caldav.credentials import BasicCredentials

__all__ = ["CAPABILITIES", "BasicCredentials", "CalDavProvider"]
