"""Attendees written as a readable last line of an event's body instead of as attendees.

Graph mails every attendee it is given (there is no ``sendUpdates=none``), so CaseCal writes
them there as ``Attendees (not invited): Jane Doe <jane@example.com>; bob@example.com`` unless
the firm opts in. Reading the line back gives the same attendees, so the round trip is stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from casecal.domain.event import Attendee

LABEL = "Attendees (not invited): "
_LINE = re.compile(r"(?:\A|\n\n)" + re.escape(LABEL) + r"(?P<people>[^\n]*?)[ \t]*\n*\Z")
_PERSON = re.compile(r"\s*(?:(?P<name>[^<>;]*?)\s*<(?P<email>[^<>\s;]+)>|(?P<bare>[^<>\s;]+))\s*")


def attendee_line(people: Iterable[Attendee]) -> str:
    """The line naming ``people`` (empty when there are none)."""
    parts = []
    for person in people:
        name = " ".join(re.sub(r"[<>;]", " ", person.name).split())
        email = person.email.strip()
        parts.append(f"{name} <{email}>" if name else email)
    return LABEL + "; ".join(parts) if parts else ""


def with_attendee_line(description: str, people: Iterable[Attendee]) -> str:
    """``description`` with the attendee line after a blank line (unchanged without people)."""
    line = attendee_line(people)
    if not line:
        return description
    return f"{description}\n\n{line}" if description else line


def split_attendee_line(text: str) -> tuple[str, tuple[Attendee, ...]]:
    """The description before an attendee line, and the attendees it names. Text without a
    line that reads as one is all description."""
    normal = text.replace("\r\n", "\n")
    found = _LINE.search(normal)
    if found is None:
        return text, ()
    people: list[Attendee] = []
    for chunk in found["people"].split(";"):
        if not chunk.strip():
            return text, ()
        match = _PERSON.fullmatch(chunk)
        if match is None:
            return text, ()
        email = match["email"] or match["bare"]
        people.append(Attendee(email=email, name=(match["name"] or "").strip()))
    return normal[: found.start()], tuple(people)
