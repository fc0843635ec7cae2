"""The codecs give the engine typed fields, so the engine never reads provider JSON: the
last-modified stamp and whether an item is a plain Graph occurrence."""

from __future__ import annotations

from datetime import UTC, datetime

from casecal.providers.google import codec as _google_codec
from casecal.providers.msgraph import codec as _graph_codec
from casecal.providers.stamps import wire_stamp


def test_wire_stamps_are_aware_and_refuse_what_is_not_a_stamp() -> None:
    assert wire_stamp("2026-12-04T10:00:00.000Z") == datetime(2026, 12, 4, 10, tzinfo=UTC)
    seven_digits = wire_stamp("2026-12-04T10:00:00.1234567")  # Graph's precision
    assert seven_digits == datetime(2026, 12, 4, 10, 0, 0, 123456, tzinfo=UTC)
    assert wire_stamp("2026-12-04T10:00:00") == datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert wire_stamp("yesterday") is None
    assert wire_stamp(None) is None
    assert wire_stamp(5) is None


def test_google_items_carry_their_updated_stamp() -> None:
    item = {
        "id": "abc",
        "etag": '"1"',
        "status": "confirmed",
        "summary": "Hearing",
        "updated": "2026-12-01T08:30:00.000Z",
        "start": {"dateTime": "2026-12-10T09:00:00Z"},
        "end": {"dateTime": "2026-12-10T10:00:00Z"},
    }
    remote = _google_codec.remote(item, "UTC")
    assert remote.modified_at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert not remote.plain_occurrence
    assert _google_codec.remote({**item, "updated": "garbage"}, "UTC").modified_at is None


def test_graph_items_carry_their_stamp_and_say_when_they_are_plain_occurrences() -> None:
    item = {
        "id": "AAMk1",
        "changeKey": "ck1",
        "subject": "Interview",
        "type": "singleInstance",
        "lastModifiedDateTime": "2026-12-02T07:00:00Z",
        "start": {"dateTime": "2026-12-10T09:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-10T10:00:00.0000000", "timeZone": "UTC"},
    }
    single = _graph_codec.remote(item, None)
    assert single.modified_at == datetime(2026, 12, 2, 7, tzinfo=UTC)
    assert not single.plain_occurrence
    occurrence = _graph_codec.remote(
        {**item, "type": "occurrence", "seriesMasterId": "AAMk0",
         "originalStart": "2026-12-10T09:00:00Z"}, None
    )  # fmt: skip
    assert occurrence.plain_occurrence
    exception = _graph_codec.remote(
        {**item, "type": "exception", "seriesMasterId": "AAMk0",
         "originalStart": "2026-12-10T09:00:00Z"}, None
    )  # fmt: skip
    assert not exception.plain_occurrence
