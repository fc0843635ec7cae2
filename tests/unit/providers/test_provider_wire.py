"""Provider wire details without a server: Google and Graph error bodies -> taxonomy, the
Google batch multipart codec, Graph etags and the create idempotency key."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from casecal.domain.entries import EntryKind
from casecal.domain.tags import Tag
from casecal.providers import (
    AuthExpired,
    ConsentRequired,
    CursorExpired,
    Gone,
    NotFound,
    PermanentError,
    PreconditionFailed,
    ProviderError,
    RateLimited,
    Transient,
)
from casecal.providers.google import wire as google
from casecal.providers.msgraph import wire as graph


def g_error(status: int, reason: str, domain: str = "global") -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": f"{reason} happened",
            "errors": [{"domain": domain, "reason": reason, "message": "m"}],
        }
    }


SCOPE_DETAILS = {
    "error": {
        "code": 403,
        "message": "Request had insufficient authentication scopes.",
        "status": "PERMISSION_DENIED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            }
        ],
    }
}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, g_error(403, "userRateLimitExceeded", "usageLimits"), RateLimited),
        (403, g_error(403, "rateLimitExceeded", "usageLimits"), RateLimited),
        (429, g_error(429, "rateLimitExceeded", "usageLimits"), RateLimited),
        (403, g_error(403, "insufficientPermissions"), ConsentRequired),
        (403, g_error(403, "forbiddenForNonOrganizer"), PermanentError),
        (410, g_error(410, "fullSyncRequired"), CursorExpired),
        (410, g_error(410, "updatedMinTooLongAgo"), CursorExpired),
        (410, g_error(410, "deleted"), Gone),
        (404, g_error(404, "notFound"), NotFound),
        (412, g_error(412, "conditionNotMet"), PreconditionFailed),
        (409, g_error(409, "duplicate"), PermanentError),
        (409, g_error(409, "conflict"), Transient),
        (500, g_error(500, "backendError"), Transient),
        (400, g_error(400, "timeRangeEmpty"), PermanentError),
        (502, None, Transient),
        (403, SCOPE_DETAILS, ConsentRequired),
    ],
)
def test_google_errors(status: int, body: Any, expected: type[ProviderError]) -> None:
    error = google.classify_parts(status, body)
    assert type(error) is expected
    assert getattr(error, "provider", "") == "google"


def m_error(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"{code} happened"}}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (410, m_error("SyncStateNotFound"), CursorExpired),
        (400, m_error("syncStateNotFound"), CursorExpired),
        (412, m_error("ErrorIrresolvableConflict"), PreconditionFailed),
        (409, m_error("ErrorIrresolvableConflict"), PreconditionFailed),
        (429, m_error("ApplicationThrottled"), RateLimited),
        (404, m_error("ErrorItemNotFound"), NotFound),
        (401, m_error("InvalidAuthenticationToken"), AuthExpired),
        (403, m_error("ErrorAccessDenied"), PermanentError),
        (503, m_error("ServiceNotAvailable"), Transient),
        (424, m_error("FailedDependency"), PermanentError),
    ],
)
def test_graph_errors(status: int, body: Any, expected: type[ProviderError]) -> None:
    error = graph.classify_parts(status, body)
    assert type(error) is expected
    assert getattr(error, "reason", "") == body["error"]["code"]


def test_google_batch_request_encodes_each_part_with_its_content_id() -> None:
    parts = [
        google.Part("POST", "/calendar/v3/calendars/c/events?sendUpdates=none", {}, {"a": 1}),
        google.Part("DELETE", "/calendar/v3/calendars/c/events/x", {"If-Match": '"e1"'}),
    ]
    boundary, body = google.encode_batch(parts)
    text = body.decode()
    assert text.count(f"--{boundary}\r\n") == 2
    assert text.endswith(f"--{boundary}--\r\n")
    assert "Content-ID: <0>" in text
    assert "Content-ID: <1>" in text
    assert "POST /calendar/v3/calendars/c/events?sendUpdates=none HTTP/1.1" in text
    assert 'If-Match: "e1"' in text
    assert '{"a": 1}' in text


def test_google_batch_response_parts_are_matched_by_content_id_in_any_order() -> None:
    answer = (
        b"--b\r\nContent-Type: application/http\r\nContent-ID: <response-1>\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n\r\n"
        b"--b\r\nContent-Type: application/http\r\nContent-ID: <response-0>\r\n\r\n"
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: "e2"\r\n\r\n{"id": "x"}\r\n'
        b"--b--\r\n"
    )
    found = google.decode_batch('multipart/mixed; boundary="b"', answer, 3)
    assert found[0] is not None
    assert (found[0].status, found[0].body, found[0].headers["etag"]) == (200, {"id": "x"}, '"e2"')
    assert found[1] is not None
    assert (found[1].status, found[1].body) == (204, None)
    assert found[2] is None, "an unanswered part is reported as missing"


def test_graph_etag_prefers_odata_etag_then_change_key() -> None:
    assert graph.weak_etag({"@odata.etag": 'W/"abc"', "changeKey": "zzz"}) == 'W/"abc"'
    assert graph.weak_etag({"changeKey": "abc"}) == 'W/"abc"'
    assert graph.weak_etag({}) is None


def test_graph_transaction_id_is_stable_per_connection_and_entry() -> None:
    entry, conn = uuid.uuid4(), uuid.uuid4()
    tag = Tag(entry_id=entry, kind=EntryKind.APPOINTMENT, connection_id=conn)
    same = Tag(entry_id=entry, kind=EntryKind.COURT_DATE, connection_id=conn)
    other = Tag(entry_id=entry, kind=EntryKind.APPOINTMENT, connection_id=uuid.uuid4())
    assert graph.transaction_id(tag) == graph.transaction_id(same)
    assert graph.transaction_id(tag) != graph.transaction_id(other)
    assert uuid.UUID(graph.transaction_id(tag))
