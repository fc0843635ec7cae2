"""CalDAV wire rules: multistatus parsing (removals as 404 responses, hrefs decoded, the sync
token), request bodies (no DAV:limit), and failed responses mapped to the taxonomy (an unknown
sync token -> CursorExpired whichever of 403/409/412 the server uses; 412 on a write ->
PreconditionFailed; a redirect keeps its Location for discovery)."""

from __future__ import annotations

import httpx
import pytest

from casecal.providers.caldav import dav
from casecal.providers.errors import (
    CursorExpired,
    NotFound,
    PermanentError,
    PreconditionFailed,
    RateLimited,
)

SYNC_ANSWER = b"""<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:">
  <d:response><d:href>/cal/</d:href><d:propstat><d:prop><d:getetag/></d:prop>
    <d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>
  <d:response><d:href>http://h.example/cal/a%20b.ics</d:href>
    <d:propstat><d:prop><d:getetag>"e1"</d:getetag></d:prop>
    <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
  <d:response><d:href>/cal/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>
  <d:sync-token>tok-2</d:sync-token>
</d:multistatus>"""

VALID_TOKEN = b'<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'


def test_sync_report_answer_is_parsed() -> None:
    found = dav.parse_multistatus(SYNC_ANSWER)
    assert found.sync_token == "tok-2"
    by_href = {r.href: r for r in found.responses}
    assert by_href["/cal/a b.ics"].text(dav.GETETAG) == '"e1"'
    assert by_href["/cal/gone.ics"].status == 404
    assert by_href["/cal/"].props == {}, "a 404 propstat carries no property"


def test_request_bodies() -> None:
    body = dav.sync_collection("a<b").decode()
    assert "<D:sync-token>a&lt;b</D:sync-token>" in body
    assert "<D:sync-level>1</D:sync-level>" in body
    assert "limit" not in body
    assert "<D:sync-token></D:sync-token>" in dav.sync_collection(None).decode()
    multiget = dav.calendar_multiget(["/cal/a b.ics"]).decode()
    assert "<D:href>/cal/a%20b.ics</D:href>" in multiget


@pytest.mark.parametrize("status", [403, 409, 412])
def test_an_unknown_sync_token_is_cursor_expired(status: int) -> None:
    error = dav.classify(httpx.Response(status, content=VALID_TOKEN))
    assert isinstance(error, CursorExpired)
    assert error.reason == "valid-sync-token"


def test_other_failures() -> None:
    assert isinstance(dav.classify(httpx.Response(412)), PreconditionFailed)
    assert isinstance(dav.classify(httpx.Response(404)), NotFound)
    throttled = dav.classify(httpx.Response(429, headers={"Retry-After": "9"}))
    assert isinstance(throttled, RateLimited)
    assert throttled.retry_after == 9.0
    moved = dav.classify(httpx.Response(301, headers={"Location": "/dav/"}))
    assert isinstance(moved, PermanentError)
    assert moved.reason == "redirect:/dav/"
    conflict = (
        b'<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        b"<C:no-uid-conflict/></D:error>"
    )
    refused = dav.classify(httpx.Response(409, content=conflict))
    assert isinstance(refused, PermanentError)
    assert refused.reason == "no-uid-conflict"


def test_a_body_that_is_not_a_multistatus_is_refused() -> None:
    with pytest.raises(PermanentError):
        dav.parse_multistatus(b"<html>login</html>")
    with pytest.raises(PermanentError):
        dav.parse_multistatus(b"not xml")
