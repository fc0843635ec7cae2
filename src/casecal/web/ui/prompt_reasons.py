"""Why a person who was asked to connect their calendar after a single sign-on is on Calendar
Sync instead ("Not now", or an authorisation that failed), carried to the page in its URL.

The reason is CaseCal's own text, signed (``auth.signed``, ten minutes) for the person it was
written for: Calendar Sync shows it only when the signature holds and the viewer is that
person, so no free text from a URL reaches a page."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from casecal.auth.encryption import secret_material
from casecal.auth.signed import sign, unsign
from casecal.config import Settings

PURPOSE = "connect prompt reason"
MAX_AGE = 600
PARAM = "prompt"
PAGE = "/calendar-sync"
PROMPT_PAGE = f"{PAGE}/connect-prompt"
PROMPT_COOKIE = "casecal_connect_prompt"
"""Set while an authorisation started from the connect prompt is at the provider (path
``/oauth``): its failure lands on Calendar Sync with the reason instead of an explanation page."""


@dataclass(frozen=True, slots=True)
class Reason:
    text: str
    is_error: bool


def landing_url(settings: Settings, user_id: uuid.UUID, reason: Reason) -> str:
    """Calendar Sync with ``reason`` for ``user_id`` to read."""
    payload = json.dumps({"u": str(user_id), "t": reason.text, "e": reason.is_error})
    value = sign(secret_material(settings), PURPOSE, payload, max_age=MAX_AGE)
    return f"{PAGE}?{PARAM}={quote(value)}"


def failure(message: str) -> Reason:
    """Why an authorisation started from the prompt failed, and what is left to do."""
    return Reason(f"{message} You can connect your calendar by hand below.", is_error=True)


def reason_for(settings: Settings, user_id: uuid.UUID, value: str) -> Reason | None:
    """The reason ``value`` carries for ``user_id``; None for anything else."""
    if not value:
        return None
    payload = unsign(secret_material(settings), PURPOSE, value)
    if payload is None:
        return None
    try:
        found = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(found, dict) or found.get("u") != str(user_id):
        return None
    text, is_error = found.get("t"), found.get("e")
    if not isinstance(text, str) or not isinstance(is_error, bool):
        return None
    return Reason(text, is_error)
