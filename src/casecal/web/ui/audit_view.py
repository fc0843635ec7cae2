"""Audit events as a firm admin reads them, without I/O: a label for each action, the target
named (a person, a case manager's calendar, a Microsoft organisation) and the details that
matter, never raw keys or ids."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACTION_LABELS = {
    "connection.authorized": "Calendar authorised",
    "connection.activated": "Calendar sync started",
    "connection.disconnected": "Calendar disconnected",
    "connection.refused": "Calendar connection refused",
    "consent.required": "Microsoft admin consent required",
    "consent.granted": "Microsoft admin consent granted",
    "consent.refused": "Microsoft admin consent refused",
    "consent.approval_requested": "Approval requested from the firm admins",
    "consent.withdrawn": "Admin consent withdrawn in the organisation",
    "connection.approval_requested": "Calendar connection waits for approval",
    "connection.approved": "Calendar connection approved",
    "connection.declined": "Calendar connection declined",
    "team.admin_named": "Team admin named",
    "team.admin_removed": "Team admin removed",
    "identity.alias_allowed": "Account alias allowed",
    "identity.alias_removed": "Account alias removed",
    "token.reauth_notice": "Asked by email to re-authorise",
    "subscription.requested": "Calendar Sync requested",
    "subscription.activated": "Calendar Sync activated",
    "subscription.cancelled": "Calendar Sync cancelled",
    "seat.added": "Seat added",
    "seat.removed": "Seat removed",
    "connection.paused": "Calendar sync paused",
    "connection.resumed": "Calendar sync resumed",
    "connection.cleanup_requested": "Removal of CaseCal's events asked for",
    "connection.cleaned_up": "CaseCal's events removed",
    "setting.set": "Setting changed",
    "setting.cleared": "Setting removed",
    "user.created": "User added",
    "user.updated": "User changed",
    "token.created": "API token issued",
    "token.revoked": "API token revoked",
}
PAUSES = {"paused_no_seat": "no seat", "paused_subscription": "subscription cancelled",
          "paused_deletions": "deletion guard"}  # fmt: skip
REFUSAL_KINDS = {"identity_mismatch": "another person's account", "scope_missing":
                 "calendar access not granted", "refused": "refused"}  # fmt: skip
PROVIDERS = {"google": "Google", "microsoft": "Microsoft 365"}


@dataclass(frozen=True)
class Names:
    """What the page knows to name targets with."""

    people: Mapping[uuid.UUID, str]
    connections: Mapping[uuid.UUID, tuple[uuid.UUID, str]]
    """connection id -> (its user's id, provider)"""
    tenants: Mapping[str, str]
    """tenant id -> its domain"""


def action_label(action: str) -> str:
    """The label of a known action; any other reads as words (``seat.removed`` -> "Seat
    removed")."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    words = action.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def target_label(target: str, names: Names) -> str:
    kind, _, ident = target.partition(":")
    bare = _id(target)
    if bare is not None:  # some services record a bare id: a person's, or nothing readable
        return names.people.get(bare, "")
    found = _id(ident)
    if kind == "user" and found is not None:
        return names.people.get(found, "a former user")
    if kind == "connection" and found is not None and found in names.connections:
        user_id, provider = names.connections[found]
        owner = names.people.get(user_id, "a former user")
        return f"{owner}'s {PROVIDERS.get(provider, provider)} calendar"
    if kind == "connection":
        return "a removed calendar connection"
    if target == "subscription":
        return "the Calendar Sync subscription"
    if kind == "domain":
        return f"Google Workspace domain {ident}"
    if kind == "team" and found is None:
        return f"team {ident}"
    if kind == "tenant":
        domain = names.tenants.get(ident)
        return f"Microsoft organisation {domain}" if domain else f"Microsoft organisation {ident}"
    return "" if found is not None else target


def detail_line(action: str, details: Mapping[str, Any], names: Names) -> str:
    """The one or two details worth reading."""
    parts = []
    if details.get("account_email"):
        parts.append(str(details["account_email"]))
    if details.get("calendar_name"):
        parts.append(f"calendar “{details['calendar_name']}”")
    if action == "connection.refused" and details.get("kind"):
        parts.append(REFUSAL_KINDS.get(str(details["kind"]), str(details["kind"])))
    if details.get("reauthorised"):
        parts.append("re-authorised")
    if action == "connection.paused" and details.get("to"):
        parts.append(PAUSES.get(str(details["to"]), str(details["to"])))
    user = _id(str(details.get("user_id", "")))
    if user is not None and user in names.people and not action.startswith("connection."):
        parts.append(names.people[user])  # a connection's target names its owner already
    if details.get("email") and not details.get("account_email"):
        parts.append(str(details["email"]))
    if isinstance(details.get("deleted"), int):
        parts.append(f"{details['deleted']} deleted")
    if isinstance(details.get("waiting"), int) and details["waiting"]:
        parts.append(f"{details['waiting']} waiting case manager(s) told")
    if details.get("reason"):
        parts.append(str(details["reason"])[:120])
    return " · ".join(parts)
