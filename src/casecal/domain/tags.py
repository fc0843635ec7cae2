"""CaseCal's tag on a remote event (host entry id, kind, connection id) and the Google client
event id derived from it. The tag is how a remote event is recognised as ours."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass

from casecal.domain.entries import EntryKind

TAG_PREFIX = "casecal:1"
GOOGLE_ID_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-1a2b3c4d5e6f")
"""uuid5 namespace of Google client event ids. Never change it: ids already written use it."""

_GOOGLE_ID_RE = re.compile(r"[a-v0-9]{5,1024}")


class BadTag(ValueError):
    """A string that is not an encoded CaseCal tag."""


@dataclass(frozen=True)
class Tag:
    """Which host entry a remote event stands for, and through which connection it was written."""

    entry_id: uuid.UUID
    kind: EntryKind
    connection_id: uuid.UUID

    def encode(self) -> str:
        """The tag as one string: ``casecal:1:<kind>:<entry id>:<connection id>``."""
        return f"{TAG_PREFIX}:{self.kind.value}:{self.entry_id}:{self.connection_id}"

    @classmethod
    def decode(cls, text: str) -> Tag:
        """Parse :meth:`encode`'s output; raise :class:`BadTag` on anything else."""
        parts = text.strip().split(":")
        if len(parts) != 5 or ":".join(parts[:2]) != TAG_PREFIX:
            raise BadTag(f"not a CaseCal tag: {text!r}")
        try:
            return cls(
                entry_id=uuid.UUID(parts[3]),
                kind=EntryKind(parts[2]),
                connection_id=uuid.UUID(parts[4]),
            )
        except ValueError as exc:
            raise BadTag(f"not a CaseCal tag: {text!r}") from exc


def decode_tag_or_none(text: str | None) -> Tag | None:
    """Decode a tag, or ``None`` when the value is missing or not ours."""
    if not text:
        return None
    try:
        return Tag.decode(text)
    except BadTag:
        return None


def google_event_id(connection_id: uuid.UUID, entry_id: uuid.UUID) -> str:
    """The deterministic Google client event id of a host entry on a connection.

    uuid5 over both ids, its 16 bytes in lowercase base32hex without padding (26 chars of
    ``a-v0-9``), so a retried insert reuses the id and Google answers 409 instead of duplicating.
    """
    digest = uuid.uuid5(GOOGLE_ID_NAMESPACE, f"{connection_id}/{entry_id}")
    return base64.b32hexencode(digest.bytes).decode("ascii").rstrip("=").lower()


def is_valid_google_event_id(value: str) -> bool:
    """Whether ``value`` is acceptable as a client-supplied Google event id (base32hex, 5-1024)."""
    return _GOOGLE_ID_RE.fullmatch(value) is not None
