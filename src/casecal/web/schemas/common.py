"""Shared pieces of the API models: safe text types, paging envelope, PATCH semantics."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")

NO_CONTROL = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Text without control characters (tabs and line breaks allowed): PostgreSQL refuses NUL."""
NO_CONTROL_LINE = r"^[^\x00-\x1f\x7f]*$"
"""One line without control characters at all: identifiers, header values."""
_ADDRESS_PART = r"[^@\s\x00-\x1f\x7f]+"
EMAIL = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$"
"""An email address: one @, a dot in the domain, no spaces or control characters."""
LOOSE_EMAIL = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}$"
"""An attendee's address as providers hand them over (the domain may lack a dot)."""


def text(max_length: int, *, min_length: int = 0, description: str | None = None) -> Any:
    """A text field: bounded, without control characters (tabs and newlines are fine)."""
    return Field(
        min_length=min_length, max_length=max_length, pattern=NO_CONTROL, description=description
    )


Name = Annotated[str, text(200, min_length=1)]
ZoneName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+\-/]+$",
        description="IANA time zone name, e.g. `America/New_York`.",
        examples=["America/New_York"],
    ),
]


class Input(BaseModel):
    """Request bodies reject unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Patch(Input):
    """A PATCH body: omitted fields stay as they are; fields in ``not_null`` may be omitted
    but not set to null."""

    not_null: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        for name in self.model_fields_set & self.not_null:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may be omitted but not null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class Page(BaseModel, Generic[T]):
    """One page of a list, in a stable order, with the total number of matches."""

    items: list[T]
    total: int = Field(description="How many items match, over all pages.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page, or null at the end.")


def page_of(items: list[T], *, total: int, limit: int, offset: int) -> dict[str, Any]:
    nxt = offset + limit if offset + limit < total else None
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next_offset": nxt}
