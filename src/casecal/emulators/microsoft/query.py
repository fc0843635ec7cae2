"""The OData query options the emulator understands for events ($select, $expand of named
extended properties, $filter on them, $top, $skip, $orderby); anything else is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass

from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.eventmodel import extended_key

_EXPAND = re.compile(
    r"^singleValueExtendedProperties\(\s*\$filter\s*=\s*(.+)\)$", re.IGNORECASE | re.DOTALL
)
_ID_EQ = re.compile(r"^id\s+eq\s+'((?:[^']|'')*)'$", re.IGNORECASE)
_ANY = re.compile(
    r"^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'((?:[^']|'')*)'\s+and\s+"
    r"\1/value\s+eq\s+'((?:[^']|'')*)'\s*\)$",
    re.IGNORECASE,
)
ORDERABLE = {
    "start/datetime": "start",
    "end/datetime": "end",
    "lastmodifieddatetime": "lastModifiedDateTime",
    "createddatetime": "createdDateTime",
    "subject": "subject",
}


def bad_query(message: str) -> GraphError:
    return GraphError(400, "ErrorInvalidUrlQuery", message)


@dataclass
class EventQuery:
    select: list[str] | None
    expand_ids: list[str]
    filter_ext: tuple[str, str] | None
    """(normalised property id, value) from $filter=singleValueExtendedProperties/any(...)."""
    top: int
    skip: int
    orderby: tuple[str, bool] | None
    """(property, descending)."""


def _expand(value: str) -> list[str]:
    ids: list[str] = []
    for part in filter(None, (p.strip() for p in re.split(r",(?![^(]*\))", value))):
        match = _EXPAND.match(part)
        if match is None:
            raise bad_query(
                "Only $expand=singleValueExtendedProperties($filter=id eq '...') is supported; "
                "extended properties cannot be expanded without a filter on their id."
            )
        for clause in re.split(r"\s+or\s+", match.group(1).strip(), flags=re.IGNORECASE):
            id_match = _ID_EQ.match(clause.strip())
            if id_match is None:
                raise bad_query(f"Unsupported $filter in $expand: '{clause}'.")
            ids.append(extended_key(id_match.group(1).replace("''", "'")))
    return ids


def _int(value: str | None, name: str, default: int, high: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 0 <= int(value) <= high:
        raise bad_query(f"Invalid value '{value}' for {name}.")
    return int(value)


def parse(query: dict[str, str], default_top: int = 10) -> EventQuery:
    known = {
        "$select",
        "$expand",
        "$filter",
        "$top",
        "$skip",
        "$orderby",
        "startDateTime",
        "endDateTime",
    }
    for key in query:
        if key.startswith("$") and key not in known:
            raise bad_query(f"Query option '{key}' is not supported on this resource.")
    select = None
    if "$select" in query:
        select = [s.strip() for s in query["$select"].split(",") if s.strip()]
    filter_ext = None
    if "$filter" in query:
        match = _ANY.match(query["$filter"].strip())
        if match is None:
            raise bad_query(f"Unsupported $filter: '{query['$filter']}'.")
        filter_ext = (
            extended_key(match.group(2).replace("''", "'")),
            match.group(3).replace("''", "'"),
        )
    orderby = None
    if "$orderby" in query:
        field_name, _, direction = query["$orderby"].strip().partition(" ")
        if field_name.lower() not in ORDERABLE or direction.strip().lower() not in (
            "",
            "asc",
            "desc",
        ):
            raise bad_query(f"Unsupported $orderby: '{query['$orderby']}'.")
        orderby = (ORDERABLE[field_name.lower()], direction.strip().lower() == "desc")
    return EventQuery(
        select=select,
        expand_ids=_expand(query["$expand"]) if "$expand" in query else [],
        filter_ext=filter_ext,
        top=_int(query.get("$top"), "$top", default_top, 1000) or default_top,
        skip=_int(query.get("$skip"), "$skip", 0, 10**9),
        orderby=orderby,
    )
