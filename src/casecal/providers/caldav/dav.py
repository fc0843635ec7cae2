"""WebDAV / CalDAV on the wire (pure): request bodies for PROPFIND, ``sync-collection``
(RFC 6578) and ``calendar-multiget`` (RFC 4791 §7.9), multistatus parsing, hrefs, and the
mapping of failed responses to the provider error taxonomy."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import httpx
from defusedxml.ElementTree import (  # type: ignore[import-untyped]
    ParseError,
    fromstring,
)

from casecal.providers._http import default_error, parse_retry_after
from casecal.providers.errors import CursorExpired, PermanentError, ProviderError, Transient

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
ICAL = "http://apple.com/ns/ical/"
PROVIDER = "caldav"
_PREFIXES = {DAV: "D", CALDAV: "C", CS: "CS", ICAL: "I"}
_STATUS = re.compile(r"HTTP/\d(?:\.\d)?\s+(\d{3})")
_HREF_SAFE = "/@:+!$&'()*,;=~-._"


def q(namespace: str, name: str) -> str:
    """An ElementTree qualified name, ``{namespace}name``."""
    return f"{{{namespace}}}{name}"


CURRENT_USER_PRINCIPAL = q(DAV, "current-user-principal")
CALENDAR_HOME_SET = q(CALDAV, "calendar-home-set")
CALENDAR_USER_ADDRESS_SET = q(CALDAV, "calendar-user-address-set")
DISPLAYNAME = q(DAV, "displayname")
RESOURCETYPE = q(DAV, "resourcetype")
COMPONENT_SET = q(CALDAV, "supported-calendar-component-set")
PRIVILEGE_SET = q(DAV, "current-user-privilege-set")
CALENDAR_TIMEZONE = q(CALDAV, "calendar-timezone")
SCHEDULE_DEFAULT = q(CALDAV, "schedule-default-calendar-URL")
REPORT_SET = q(DAV, "supported-report-set")
GETETAG = q(DAV, "getetag")
GETCTAG = q(CS, "getctag")
SYNC_TOKEN = q(DAV, "sync-token")
CALENDAR_DATA = q(CALDAV, "calendar-data")


@dataclass(frozen=True, slots=True)
class DavResponse:
    """One ``DAV:response`` of a multistatus: its href (a path, percent-decoded), the status
    of the response itself (a removal in a sync report is a 404 here) and the properties found
    (200 propstats only)."""

    href: str
    status: int | None
    props: dict[str, Element] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        found = self.props.get(name)
        if found is None:
            return None
        return (found.text or "").strip()

    def hrefs(self, name: str) -> list[str]:
        """The ``DAV:href`` values inside a property (principal, home set)."""
        found = self.props.get(name)
        if found is None:
            return []
        return [(h.text or "").strip() for h in found.iter(q(DAV, "href")) if h.text]


@dataclass(frozen=True, slots=True)
class Multistatus:
    responses: list[DavResponse]
    sync_token: str | None = None


_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
_NS = " ".join(f'xmlns:{p}="{n}"' for n, p in _PREFIXES.items())


def _name(qualified: str) -> str:
    """``{namespace}local`` as ``prefix:local``."""
    namespace, local = qualified[1:].split("}", 1)
    return f"{_PREFIXES[namespace]}:{local}"


def _prop(names: Iterable[str]) -> str:
    return "<D:prop>" + "".join(f"<{_name(n)}/>" for n in names) + "</D:prop>"


def propfind(props: Iterable[str]) -> bytes:
    """A PROPFIND body asking for ``props`` (qualified names)."""
    return f"{_HEAD}<D:propfind {_NS}>{_prop(props)}</D:propfind>".encode()


def sync_collection(token: str | None) -> bytes:
    """An RFC 6578 ``sync-collection`` REPORT for member etags; ``None`` starts from scratch.
    No ``DAV:limit``: servers that honour one cut results without saying so."""
    return (
        f"{_HEAD}<D:sync-collection {_NS}><D:sync-token>{escape(token or '')}</D:sync-token>"
        f"<D:sync-level>1</D:sync-level>{_prop([GETETAG])}</D:sync-collection>"
    ).encode()


def calendar_multiget(hrefs: Sequence[str]) -> bytes:
    """A ``calendar-multiget`` REPORT for the etag and data of ``hrefs`` (paths)."""
    listed = "".join(f"<D:href>{escape(quote_href(h))}</D:href>" for h in hrefs)
    return (
        f"{_HEAD}<C:calendar-multiget {_NS}>{_prop([GETETAG, CALENDAR_DATA])}{listed}"
        "</C:calendar-multiget>"
    ).encode()


def parse_multistatus(content: bytes) -> Multistatus:
    """The responses of a 207 body. Raises ``PermanentError`` when it is not one."""
    try:
        root = fromstring(content)
    except ParseError as exc:
        raise PermanentError(
            f"unreadable multistatus: {exc}", provider=PROVIDER, status=207
        ) from exc
    if root.tag != q(DAV, "multistatus"):
        raise PermanentError("expected a DAV:multistatus", provider=PROVIDER, status=207)
    responses: list[DavResponse] = []
    for item in root.findall(q(DAV, "response")):
        href_el = item.find(q(DAV, "href"))
        if href_el is None or not href_el.text:
            continue
        status_el = item.find(q(DAV, "status"))
        props: dict[str, Element] = {}
        for stat in item.findall(q(DAV, "propstat")):
            code = _status(stat.find(q(DAV, "status")))
            prop = stat.find(q(DAV, "prop"))
            if code == 200 and prop is not None:
                for child in prop:
                    props[child.tag] = child
        responses.append(DavResponse(path_of(href_el.text), _status(status_el), props))
    token_el = root.find(q(DAV, "sync-token"))
    token = (token_el.text or "").strip() if token_el is not None else None
    return Multistatus(responses, token or None)


def _status(element: Element | None) -> int | None:
    if element is None or not element.text:
        return None
    match = _STATUS.search(element.text)
    return int(match[1]) if match else None


def path_of(href: str) -> str:
    """The percent-decoded path of an href (servers send paths or full URLs)."""
    return unquote(urlsplit(href.strip()).path)


def quote_href(path: str) -> str:
    return quote(path, safe=_HREF_SAFE)


def same_collection(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def is_calendar(response: DavResponse) -> bool:
    kind = response.props.get(RESOURCETYPE)
    return kind is not None and kind.find(q(CALDAV, "calendar")) is not None


def holds_events(response: DavResponse) -> bool:
    """Whether a calendar takes VEVENTs (no component set: every component, RFC 4791)."""
    found = response.props.get(COMPONENT_SET)
    if found is None:
        return True
    names = {(c.get("name") or "").upper() for c in found.iter(q(CALDAV, "comp"))}
    return not names or "VEVENT" in names


def writable(response: DavResponse) -> bool:
    """Whether the current user may write into the collection (no privilege set: assume so,
    the first write says otherwise)."""
    found = response.props.get(PRIVILEGE_SET)
    if found is None:
        return True
    granted = {child.tag for priv in found.iter(q(DAV, "privilege")) for child in priv}
    return bool(granted & {q(DAV, "all"), q(DAV, "write"), q(DAV, "write-content"), q(DAV, "bind")})


def supports_sync(response: DavResponse) -> bool:
    found = response.props.get(REPORT_SET)
    if found is None:
        return response.text(SYNC_TOKEN) is not None
    return found.find(f".//{q(DAV, 'sync-collection')}") is not None


# -- errors --------------------------------------------------------------------------------
def condition(content: bytes) -> str:
    """The local name of the first precondition in a ``DAV:error`` body ('' if none)."""
    try:
        root = fromstring(content)
    except ParseError:
        return ""
    if root.tag != q(DAV, "error") or len(root) == 0:
        return ""
    return str(root[0].tag).rsplit("}", 1)[-1]


def classify(response: httpx.Response) -> ProviderError:
    """A failed response as a provider error. A sync token the server does not know (any
    more) fails the ``DAV:valid-sync-token`` precondition: 403 (RFC 6578, Radicale), 409, or
    412 (Xandikos)."""
    reason = condition(response.content) if response.content else ""
    status = response.status_code
    if 300 <= status < 400:
        # Discovery follows these by hand (PROPFIND must stay PROPFIND).
        location = response.headers.get("Location", "")
        return PermanentError(
            f"redirected ({status})", provider=PROVIDER, status=status,
            reason=f"redirect:{location}",
        )  # fmt: skip
    if status == 423:
        # Locked: another writer holds the collection (Xandikos commits one write at a
        # time to its git store); nothing was written, so the layer tries again.
        return Transient("the collection is locked", provider=PROVIDER, status=423, reason="locked")
    if status == 501:
        return PermanentError(
            "not implemented by the server", provider=PROVIDER, status=status, reason=reason
        )
    if reason == "valid-sync-token" and status in (403, 409, 412):
        return CursorExpired(
            "the server no longer knows the sync token", provider=PROVIDER, status=status,
            reason=reason,
        )  # fmt: skip
    return default_error(
        status,
        provider=PROVIDER,
        reason=reason,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )
