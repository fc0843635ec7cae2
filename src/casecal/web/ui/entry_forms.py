"""The entry forms of the calendar page, without I/O: which fields each kind asks for, a stored
entry as form values, and posted values checked by the API's own models into the service's
input (or the message for each field that is wrong). Recurrence comes from a small repeat
picker or a raw RRULE."""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from casecal.domain.entries import EntryKind
from casecal.web.schemas.appointments import AppointmentCreate
from casecal.web.schemas.case_entries import CourtDateCreate, InterviewCreate, StepReminderCreate
from casecal.web.ui.templating import local_time


@dataclass(frozen=True)
class FormField:
    """One input of an entry form; ``name`` is the API's field name, so a service error's
    ``field`` lands on the input it is about."""

    name: str
    label: str
    widget: str = "text"
    """``text``, ``textarea``, ``datetime-local``, ``date``, ``number``, ``select`` or
    ``checkbox``."""
    required: bool = False
    hint: str = ""
    group: str = ""
    """``timed``, ``all_day`` or ``repeat``: the appointment's sections."""


RULE_HINT = "Used when Repeats is “Custom rule”, e.g. FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"
ZONE_HINT = "IANA time zone the times above are in, e.g. America/New_York."
CASE = FormField("case_id", "Case", "select", required=True)
ASSIGNEE = FormField("assigned_user_id", "Assigned to", "select",
                     hint="Leave as is to give it to the case's case managers.")  # fmt: skip
TIMED = (
    FormField("start_at", "Starts", "datetime-local", required=True),
    FormField("duration_minutes", "Duration (minutes)", "number", required=True),
    FormField("time_zone", "Time zone", required=True, hint=ZONE_HINT),
)
NOTES = FormField("notes", "Notes", "textarea")

FORMS: Mapping[EntryKind, tuple[FormField, ...]] = {
    EntryKind.APPOINTMENT: (
        FormField("title", "Title", required=True),
        FormField("all_day", "All day", "checkbox"),
        FormField("start_at", "Starts", "datetime-local", group="timed"),
        FormField("end_at", "Ends", "datetime-local", group="timed"),
        FormField("start_date", "First day", "date", group="all_day"),
        FormField(
            "end_date",
            "Last day",
            "date",
            group="all_day",
            hint="The last day it covers; leave empty for one day.",
        ),
        FormField("time_zone", "Time zone", required=True, hint=ZONE_HINT),
        FormField("repeat", "Repeats", "select", group="repeat"),
        FormField(
            "repeat_count",
            "Number of times",
            "number",
            group="repeat",
            hint="Or an end date: a series ends within 999 times and 10 years.",
        ),
        FormField("repeat_until", "Until (last day)", "date", group="repeat"),
        FormField("rrule", "Repeat rule (RRULE)", group="repeat", hint=RULE_HINT),
        FormField("location", "Location"),
        FormField("owner_id", "Calendar of", "select"),
        FormField("case_id", "Case", "select"),
        FormField("private", "Private (others see only a busy block)", "checkbox"),
        FormField("show_as", "Show as", "select"),
        NOTES,
    ),
    EntryKind.COURT_DATE: (
        CASE,
        FormField("hearing_type", "Hearing type", required=True),
        *TIMED,
        FormField("court_name", "Court"),
        FormField("court_address", "Court address"),
        FormField("judge", "Judge"),
        FormField("courtroom", "Courtroom"),
        ASSIGNEE,
        NOTES,
    ),
    EntryKind.INTERVIEW: (
        CASE,
        FormField("interview_type", "Interview type", required=True),
        *TIMED,
        FormField("office_name", "Office"),
        FormField("office_address", "Office address"),
        FormField("officer", "Officer"),
        FormField("documents", "Documents to bring", "textarea"),
        ASSIGNEE,
        NOTES,
    ),
    EntryKind.STEP_REMINDER: (
        CASE,
        FormField("step_name", "Step", required=True),
        FormField("due_date", "Due", "date", required=True),
        FormField("reminder_date", "Remind on", "date", hint="Defaults to the due day."),
        ASSIGNEE,
        NOTES,
    ),
}

MODELS: Mapping[EntryKind, type[BaseModel]] = {
    EntryKind.APPOINTMENT: AppointmentCreate,
    EntryKind.COURT_DATE: CourtDateCreate,
    EntryKind.INTERVIEW: InterviewCreate,
    EntryKind.STEP_REMINDER: StepReminderCreate,
}

NEW_KINDS = (
    (EntryKind.APPOINTMENT, "New appointment"),
    (EntryKind.COURT_DATE, "New court date"),
    (EntryKind.INTERVIEW, "New interview"),
    (EntryKind.STEP_REMINDER, "New step reminder"),
)

ENTRY_NOTICES = {
    "entry-created": "The entry is saved; the next sync carries it to the calendars it is on.",
    "entry-saved": "Your changes are saved; the next sync carries them out.",
    "entry-deleted": "The entry is deleted; the next sync removes it from the calendars.",
    "entry-shared": "Shared: your firm now sees this appointment (a private one stays busy).",
    "entry-unshared": "Kept to yourself: your firm admins see only a busy block.",
}
"""One-shot notices of the entry pages (``?done=<key>``, never free text from a URL)."""

REPEATS = (("", "Does not repeat"), ("DAILY", "Daily"), ("WEEKLY", "Weekly"),
           ("MONTHLY", "Monthly"), ("YEARLY", "Yearly"), ("custom", "Custom rule"))  # fmt: skip
SHOW_AS = (("busy", "Busy"), ("free", "Free"))
_SIMPLE_RULE = re.compile(r"^FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(?:;COUNT=(\d+))?$")
_CHECKBOXES = frozenset({"all_day", "private"})
_FORM_ONLY = frozenset({"repeat", "repeat_count", "repeat_until"})


class FormErrors(Exception):
    """Posted values that break a rule: a message per form field (``""`` for the form)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def field_of(kind: EntryKind, name: str | None, values: Mapping[str, str] | None = None) -> str:
    """The form field an error about ``name`` is shown by (``""``: above the form); a rule
    made by the repeat picker is the picker's."""
    aliases = {"exdates": "rrule", "overrides": "rrule", "start": "start_at", "end": "end_at"}
    target = aliases.get(name or "", name or "")
    if target == "rrule" and (values or {}).get("repeat", "custom") not in ("", "custom"):
        target = "repeat"
    return target if any(f.name == target for f in FORMS[kind]) else ""


_ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)"
)


def readable(kind: EntryKind, detail: str, zone: str) -> str:
    """A service's message in the form's words: field names as their labels, instants as
    local time in ``zone`` (the service speaks the API's language: ``end_at``, UTC ISO)."""
    labels = {f.name: f.label for f in FORMS[kind]}
    text = _ISO_INSTANT.sub(
        lambda m: local_time(datetime.fromisoformat(m.group(0)), zone, "%a %-d %b %Y, %H:%M %Z"),
        detail,
    )
    return re.sub(r"\b[a-z]+_[a-z_]+\b", lambda m: labels.get(m.group(0), m.group(0)), text)


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") in ("missing", "string_too_short") and error.get("ctx", {}).get(
        "min_length", 1
    ) in (1, None):
        return "This field is required."
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def repeat_rule(values: Mapping[str, str], *, all_day: bool, zone: str) -> str | None:
    """The RRULE the repeat picker describes: a frequency, ended after a number of times or on
    a last day (a timed series gives UNTIL as the end of that day in UTC), or the raw rule."""
    choice = values.get("repeat", "").strip()
    if choice == "custom":
        rule = values.get("rrule", "").strip()
        if not rule:
            raise FormErrors({"rrule": "Write the rule, or pick how often it repeats."})
        return rule
    if not choice:
        return None
    if choice not in {c for c, _ in REPEATS}:
        raise FormErrors({"repeat": "Pick one of the choices."})
    count, until = values.get("repeat_count", "").strip(), values.get("repeat_until", "").strip()
    if count and until:
        raise FormErrors({"repeat_until": "Give a number of times or an end date, not both."})
    if count:
        if not count.isdigit() or int(count) < 1:
            raise FormErrors({"repeat_count": "A whole number, 1 or more."})
        return f"FREQ={choice};COUNT={int(count)}"
    if until:
        try:
            last = date.fromisoformat(until)
        except ValueError:
            raise FormErrors({"repeat_until": "A date (YYYY-MM-DD)."}) from None
        if all_day:
            return f"FREQ={choice};UNTIL={last:%Y%m%d}"
        try:
            end = datetime.combine(last, time(23, 59, 59), ZoneInfo(zone)).astimezone(UTC)
        except (ValueError, KeyError, OverflowError):
            return f"FREQ={choice};UNTIL={last:%Y%m%d}T235959Z"  # the zone's error comes later
        return f"FREQ={choice};UNTIL={end:%Y%m%dT%H%M%SZ}"
    raise FormErrors({"repeat_count": "Give a number of times or an end date: a series ends."})


def _raw(kind: EntryKind, values: Mapping[str, str], default_zone: str) -> dict[str, Any]:
    """Posted strings as the API's input: empty inputs left out, checkboxes as booleans."""
    raw: dict[str, Any] = {}
    for spec in FORMS[kind]:
        if spec.name in _FORM_ONLY or spec.name == "rrule":
            continue
        if spec.widget == "checkbox":
            raw[spec.name] = values.get(spec.name) in ("on", "true", "1")
            continue
        value = (
            values.get(spec.name, "").strip()
            if spec.widget != "textarea"
            else values.get(spec.name, "")
        )
        if value or (spec.widget in ("text", "textarea") and spec.name in values):
            raw[spec.name] = value
    if "time_zone" in raw and not raw["time_zone"]:
        raw["time_zone"] = default_zone
    if kind is EntryKind.APPOINTMENT:
        all_day = bool(raw["all_day"])
        for name in ("start_at", "end_at") if all_day else ("start_date", "end_date"):
            raw.pop(name, None)
        if all_day and raw.get("end_date"):
            # The form asks for the last day; the API wants the day after (exclusive). A
            # malformed date is left as it is for the model to name.
            with suppress(ValueError):
                raw["end_date"] = (date.fromisoformat(raw["end_date"]) + timedelta(1)).isoformat()
        zone = str(raw.get("time_zone") or default_zone)
        raw["rrule"] = repeat_rule(values, all_day=all_day, zone=zone)
    return raw


def parse_form(kind: EntryKind, values: Mapping[str, str], default_zone: str) -> dict[str, Any]:
    """The service's input for a posted form, checked by the API's model of the kind; raises
    ``FormErrors`` naming each field that is wrong."""
    raw = _raw(kind, values, default_zone)
    try:
        model = MODELS[kind].model_validate(raw)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = error.get("loc", ())
            name = field_of(kind, str(loc[0]) if loc else None)
            errors.setdefault(name, _message(error))
        raise FormErrors(errors) from None
    data = model.model_dump(exclude_unset=True)
    if kind is EntryKind.APPOINTMENT and data.get("rrule") is None:
        data["rrule"] = None
    return data


def form_values(kind: EntryKind, entry: Any) -> dict[str, str]:
    """A stored entry as the strings its form shows (times as wall time in its own zone)."""
    values: dict[str, str] = {}
    zone = str(getattr(entry, "time_zone", "") or "UTC")
    for spec in FORMS[kind]:
        if spec.name in _FORM_ONLY or not hasattr(entry, spec.name):
            continue
        value = getattr(entry, spec.name)
        if value is None:
            values[spec.name] = ""
        elif spec.widget == "checkbox":
            values[spec.name] = "on" if value else ""
        elif isinstance(value, datetime):
            values[spec.name] = local_time(value, zone, "%Y-%m-%dT%H:%M")
        elif isinstance(value, date):
            values[spec.name] = value.isoformat()
        else:
            values[spec.name] = str(value)
    if kind is EntryKind.APPOINTMENT:
        if entry.all_day and entry.end_date is not None:
            values["end_date"] = (entry.end_date - timedelta(days=1)).isoformat()
        values |= picker_of(entry.rrule)
    return values


def picker_of(rule: str | None) -> dict[str, str]:
    """How the repeat picker shows ``rule``: a frequency and count, or the raw rule."""
    if not rule:
        return {"repeat": "", "repeat_count": "", "repeat_until": "", "rrule": ""}
    simple = _SIMPLE_RULE.match(rule)
    if simple is None:
        return {"repeat": "custom", "repeat_count": "", "repeat_until": "", "rrule": rule}
    return {"repeat": simple.group(1), "repeat_count": simple.group(2) or "",
            "repeat_until": "", "rrule": rule}  # fmt: skip
