"""The tag's encoding and the deterministic Google client event id."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.entries import EntryKind
from casecal.domain.tags import (
    BadTag,
    Tag,
    decode_tag_or_none,
    google_event_id,
    is_valid_google_event_id,
)


@given(st.uuids(), st.sampled_from(list(EntryKind)), st.uuids())
def test_tag_encodes_and_decodes(entry: uuid.UUID, kind: EntryKind, conn: uuid.UUID) -> None:
    tag = Tag(entry_id=entry, kind=kind, connection_id=conn)
    assert Tag.decode(tag.encode()) == tag
    assert len(tag.encode()) <= 1024


@pytest.mark.parametrize(
    "text", ["", "casecal:2:appointment:x:y", "hello", "casecal:1:meeting:" + "0" * 32 + ":x"]
)
def test_bad_tags_are_rejected(text: str) -> None:
    with pytest.raises(BadTag):
        Tag.decode(text)
    assert decode_tag_or_none(text) is None


@given(st.uuids(), st.uuids())
def test_google_event_id_is_deterministic_and_valid(conn: uuid.UUID, entry: uuid.UUID) -> None:
    event_id = google_event_id(conn, entry)
    assert event_id == google_event_id(conn, entry)
    assert is_valid_google_event_id(event_id)
    assert len(event_id) == 26


def test_google_event_id_differs_per_connection_and_entry() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert len({google_event_id(a, b), google_event_id(b, a), google_event_id(a, a)}) == 3


def test_google_id_rules() -> None:
    assert is_valid_google_event_id("abcde")
    assert not is_valid_google_event_id("abcd")
    assert not is_valid_google_event_id("abcdw")  # w is outside base32hex
    assert not is_valid_google_event_id("ABCDE")
    assert not is_valid_google_event_id("a" * 1025)
    assert not is_valid_google_event_id("master_20240101T090000Z")
