"""The Microsoft Graph adapter as a package: the adapter itself (``adapter``), the event JSON
format (``json``), its translation to the adapter's values (``codec``), the wire details
(``wire``), and the three parts Graph needs of its own: calendarView delta rounds
(``delta``), writing a series' exceptions (``series``) and the one ``$batch`` loop
(``batch``)."""

from casecal.providers.msgraph.adapter import CAPABILITIES, MicrosoftGraphProvider

__all__ = ["CAPABILITIES", "MicrosoftGraphProvider"]
