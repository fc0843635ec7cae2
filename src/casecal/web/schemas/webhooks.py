"""What the push receivers accept: a Graph notification body and Google's ``X-Goog-*`` headers,
validated (strict types, bounded sizes, JSON nesting bounded by the parser) before any of it
is read. Anything else is malformed: the receivers answer 400."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import Headers

from casecal.web.schemas.common import NO_CONTROL_LINE

MAX_BODY_BYTES = 256 * 1024
"""Bodies beyond this answer 413: a Graph notification batch is a few KB; Google sends none."""

MAX_VALIDATION_TOKEN = 1024
"""Graph's validation tokens are short opaque strings; a longer one is not Graph's."""

MAX_MESSAGE_NUMBER = 2**63 - 1
"""The largest message number the database keeps (a signed 64-bit column)."""

_Id = Annotated[str, Field(min_length=1, max_length=256, pattern=NO_CONTROL_LINE)]
_Secret = Annotated[str, Field(max_length=256, pattern=NO_CONTROL_LINE)]
_Text = Annotated[str, Field(max_length=2048, pattern=NO_CONTROL_LINE)]
_Word = Annotated[str, Field(max_length=64, pattern=NO_CONTROL_LINE)]
"""Every string is one line without control characters: PostgreSQL refuses NUL, and no id,
secret or state Graph or Google sends has any."""


class _Strict(BaseModel):
    """No coercion (a number is not a string) and unknown fields are ignored, as Graph adds
    fields over time."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class GraphResourceData(_Strict):
    id: _Text | None = None
    etag: _Text | None = Field(default=None, alias="@odata.etag")


class GraphNotification(_Strict):
    """One change or lifecycle notification of a Graph subscription."""

    subscription_id: _Id = Field(alias="subscriptionId")
    client_state: _Secret | None = Field(default=None, alias="clientState")
    change_type: _Word | None = Field(default=None, alias="changeType")
    resource: _Text | None = None
    resource_data: GraphResourceData | None = Field(default=None, alias="resourceData")
    lifecycle_event: _Word | None = Field(default=None, alias="lifecycleEvent")

    def key(self) -> tuple[str, ...]:
        """What identifies one notification among repeats of it."""
        data = self.resource_data or GraphResourceData()
        return (
            self.subscription_id,
            data.id or self.resource or "",
            self.change_type or "",
            data.etag or "",
        )


class GraphNotifications(_Strict):
    value: Annotated[list[GraphNotification], Field(max_length=1000)]


class GoogleNotification(BaseModel):
    """The ``X-Goog-*`` headers of a watch-channel notification (Google sends no body)."""

    model_config = ConfigDict(frozen=True)

    channel_id: _Id
    token: _Secret | None = None
    resource_id: Annotated[str, Field(max_length=256, pattern=NO_CONTROL_LINE)] | None = None
    resource_state: Literal["sync", "exists", "not_exists"]
    message_number: Annotated[int, Field(ge=0, le=MAX_MESSAGE_NUMBER)] | None = None


_GOOGLE_HEADERS = {
    "channel_id": "X-Goog-Channel-ID",
    "token": "X-Goog-Channel-Token",
    "resource_id": "X-Goog-Resource-ID",
    "resource_state": "X-Goog-Resource-State",
    "message_number": "X-Goog-Message-Number",
}
_DIGITS = frozenset("0123456789")


def parse_graph(body: bytes) -> GraphNotifications | None:
    """The notifications in a Graph POST body, or None when it is malformed."""
    try:
        return GraphNotifications.model_validate_json(body)
    except ValidationError:
        return None


def parse_google(headers: Headers) -> GoogleNotification | None:
    """The notification Google's headers describe, or None when they are malformed. The
    message number is digits only (no sign, space or underscore that ``int()`` would take)."""
    number = headers.get(_GOOGLE_HEADERS["message_number"])
    if number is not None and (not number or len(number) > 19 or set(number) - _DIGITS):
        return None
    values = {
        field: headers[name]
        for field, name in _GOOGLE_HEADERS.items()
        if name in headers and field != "message_number"
    }
    try:
        return GoogleNotification.model_validate(
            {**values, "message_number": int(number) if number is not None else None}
        )
    except ValidationError:
        return None
