"""Harnesses for the contract suite: each provider adapter wired to its emulator in-process
(httpx's ASGI transport), with a registered client, one account, its tokens, and a sleep that
records waits instead of waiting."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from casecal.domain.entries import EntryKind
from casecal.domain.event import CanonicalEvent
from casecal.domain.tags import Tag
from casecal.emulators.faults import Fault
from casecal.emulators.google import GoogleEmulator
from casecal.emulators.microsoft import MicrosoftEmulator
from casecal.providers import Provider, RefreshingTokenSource, RetryPolicy, SyncWindow
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.msgraph import MicrosoftGraphProvider

BASE = "http://testserver"
CLIENT_ID, SECRET = "casecal-client", "casecal-secret"
REDIRECT = "https://casecal.test/oauth/callback"
GOOGLE_CAL = "https://www.googleapis.com/auth/calendar.events"
GOOGLE_SCOPES = [
    "openid",
    "email",
    "profile",
    GOOGLE_CAL,
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
]
GRAPH_SCOPES = ["Calendars.ReadWrite", "User.Read", "offline_access"]
WINDOW = SyncWindow(datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


class RecordingSleep:
    """Records every wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_event(title: str = "Consultation", day: int = 1, hour: int = 9) -> CanonicalEvent:
    start = datetime(2026, 12, day, hour, tzinfo=UTC)
    return CanonicalEvent(
        title=title,
        start=start,
        end=start + timedelta(hours=1),
        tz="America/New_York",
        description="Bring the I-130 receipt.",
        location="Office 4",
        reminders=(30,),
    )


def make_tag(connection: uuid.UUID) -> Tag:
    return Tag(entry_id=uuid.uuid4(), kind=EntryKind.APPOINTMENT, connection_id=connection)


class Receiver:
    """The webhook endpoint the emulators deliver to: answers Graph's validation handshake
    and records every notification."""

    def __init__(self) -> None:
        self.notifications: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("validationToken")
        if token is not None:
            return httpx.Response(200, text=token, headers={"Content-Type": "text/plain"})
        self.notifications.append(request)
        return httpx.Response(202)

    def carried(self, secret: str) -> bool:
        """Whether a notification echoed ``secret`` (Google channel token header or Graph
        ``clientState`` in the body)."""
        return any(
            r.headers.get("x-goog-channel-token") == secret or secret in r.content.decode()
            for r in self.notifications
        )


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and keeps a copy of each, headers included."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


class Harness:
    """What the contract suite needs from one provider + emulator pair."""

    name: str
    emulator: Any
    provider: Provider
    calendar_id: str
    create_path: str
    """A regular expression matching the create request's path (for faults)."""

    def __init__(
        self, client: httpx.AsyncClient, receiver: Receiver, sent: list[httpx.Request]
    ) -> None:
        self.client = client
        self.sent = sent
        self.receiver = receiver
        self.sleep = RecordingSleep()
        self.token_source: RefreshingTokenSource | None = None
        self.connection = uuid.uuid4()
        self.window = WINDOW

    def tag(self) -> Tag:
        return make_tag(self.connection)

    def requires(self, feature: str) -> None:
        """Skip, saying why, a test of a feature the provider does not have (declared in its
        capabilities): CalDAV has no push."""
        if feature == "push" and not self.provider.capabilities.supports_push:
            pytest.skip(f"{self.name} has no push notifications: its calendars are polled")

    def arm(self, fault: Fault) -> Fault:
        return self.emulator.faults.add(fault)  # type: ignore[no-any-return]

    def stored_titles(self) -> list[str]:
        raise NotImplementedError

    def expire_cursors(self) -> None:
        raise NotImplementedError

    def revoke_grant(self) -> None:
        raise NotImplementedError

    def expire_access_token(self) -> None:
        raise NotImplementedError

    def wire_problems(self) -> list[str]:
        """Requests sent so far that break a rule of the provider's wire protocol."""
        raise NotImplementedError

    def paged(self, page_size: int) -> Provider:
        """The same account through an adapter that asks for ``page_size`` items a page."""
        raise NotImplementedError

    def provider_without_consent(self) -> Provider:
        """An adapter for an account whose grant lacks the consent CaseCal needs."""
        raise NotImplementedError

    def tokens(
        self, answer: dict[str, Any], token_url: str, **kwargs: Any
    ) -> RefreshingTokenSource:
        source = RefreshingTokenSource(
            self.client,
            token_url,
            client_id=CLIENT_ID,
            client_secret=SECRET,
            refresh_token=answer.get("refresh_token", ""),
            access_token=answer.get("access_token"),
            expires_at=datetime.now(UTC).timestamp() + 3000,
            provider=self.name,
            **kwargs,
        )
        self.token_source = self.token_source or source
        return source


class GoogleHarness(Harness):
    name = "google"
    create_path = r"/events$"
    email = "maria@firm.test"

    def __init__(
        self,
        client: httpx.AsyncClient,
        receiver: Receiver,
        sent: list[httpx.Request],
        emulator: GoogleEmulator,
    ) -> None:
        super().__init__(client, receiver, sent)
        self.emulator = emulator
        emulator.add_account(self.email, "Maria Lopez")
        emulator.register_client(CLIENT_ID, SECRET, [REDIRECT])
        self.answer = emulator.issue_tokens(self.email, CLIENT_ID, GOOGLE_SCOPES)
        self.provider = self.build(self.answer)
        self.calendar_id = self.email

    def build(self, answer: dict[str, Any], **token_args: Any) -> GoogleCalendarProvider:
        tokens = self.tokens(answer, f"{BASE}/token", required_scopes=[GOOGLE_CAL], **token_args)
        return GoogleCalendarProvider(
            self.client, tokens, api_base_url=BASE, sleep=self.sleep, policy=RetryPolicy()
        )

    def stored_titles(self) -> list[str]:
        return [e.get("summary", "") for e in self.emulator.events(self.calendar_id)]

    def paged(self, page_size: int) -> Provider:
        assert self.token_source is not None
        return GoogleCalendarProvider(
            self.client, self.token_source, api_base_url=BASE, page_size=page_size
        )

    def expire_cursors(self) -> None:
        self.emulator.expire_sync_tokens()

    def revoke_grant(self) -> None:
        self.emulator.revoke(self.answer["refresh_token"])

    def expire_access_token(self) -> None:
        self.emulator.expire_access_tokens(self.email)

    def wire_problems(self) -> list[str]:
        """Every event write says ``sendUpdates=none`` (no mail to attendees); the inner
        requests of a batch are checked in its body."""
        problems = []
        for r in self.sent:
            path = r.url.path
            write = r.method in ("POST", "PUT", "PATCH", "DELETE")
            event_write = write and "/events" in path and not path.endswith("/watch")
            if event_write and r.url.params.get("sendUpdates") != "none":
                problems.append(f"{r.method} {path} without sendUpdates=none")
            if path == "/batch/calendar/v3":
                body = r.content.decode()
                lines = [x for x in body.split("\r\n") if x.endswith(" HTTP/1.1")]
                problems += [f"batch part {x}" for x in lines if "sendUpdates=none" not in x]
        return problems

    def provider_without_consent(self) -> Provider:
        """Google's granular consent: the user unticked the calendar scope."""
        other = "omar@firm.test"
        self.emulator.add_account(other, "Omar")
        answer = self.emulator.issue_tokens(other, CLIENT_ID, ["openid", "email"])
        return self.build(answer)


class MicrosoftHarness(Harness):
    name = "microsoft"
    create_path = r"/events$"
    upn = "maria@firm.test"

    def __init__(
        self,
        client: httpx.AsyncClient,
        receiver: Receiver,
        sent: list[httpx.Request],
        emulator: MicrosoftEmulator,
    ) -> None:
        super().__init__(client, receiver, sent)
        self.emulator = emulator
        self.tenant = emulator.add_tenant(domain="firm.test")
        self.oid = emulator.add_user(self.tenant, self.upn, "Maria Lopez")
        emulator.register_app(CLIENT_ID, SECRET, [REDIRECT])
        self.answer = emulator.issue_tokens(self.upn, CLIENT_ID, GRAPH_SCOPES)
        self.provider = self.build(self.answer, self.tenant)
        self.calendar_id = emulator.state.users[self.oid].default_calendar_id

    def build(self, answer: dict[str, Any], tenant: str) -> MicrosoftGraphProvider:
        tokens = self.tokens(answer, f"{BASE}/{tenant}/oauth2/v2.0/token")
        return MicrosoftGraphProvider(
            self.client, tokens, graph_base_url=BASE, tenant_id=tenant, sleep=self.sleep
        )

    def stored_titles(self) -> list[str]:
        return [e.get("subject", "") for e in self.emulator.events(self.oid)]

    def paged(self, page_size: int) -> Provider:
        assert self.token_source is not None
        return MicrosoftGraphProvider(
            self.client, self.token_source, graph_base_url=BASE, page_size=page_size
        )

    def expire_cursors(self) -> None:
        self.emulator.expire_delta_tokens()

    def revoke_grant(self) -> None:
        self.emulator.revoke(self.upn)

    def expire_access_token(self) -> None:
        self.emulator.revoke(self.answer["access_token"])

    def wire_problems(self) -> list[str]:
        """Every Graph request asks for immutable ids and UTC times (batch parts too)."""
        wanted = ('IdType="ImmutableId"', 'outlook.timezone="UTC"')
        problems = []
        for r in self.sent:
            if not r.url.path.startswith(("/v1.0/", "/beta/")):
                continue
            prefer = r.headers.get("prefer", "")
            problems += [f"{r.method} {r.url.path} lacks {w}" for w in wanted if w not in prefer]
            if r.url.path.endswith("/$batch"):
                for part in json.loads(r.content)["requests"]:
                    inner = part.get("headers", {}).get("Prefer", "")
                    problems += [
                        f"batch part {part['url']} lacks {w}" for w in wanted if w not in inner
                    ]
        return problems

    def provider_without_consent(self) -> Provider:
        """A tenant whose policy needs an administrator's consent; the admin consented, a
        user signed in, then the consent was withdrawn. The next refresh needs consent."""
        tenant = self.emulator.add_tenant(domain="strict.test", admin_consent_required=True)
        self.emulator.add_user(tenant, "omar@strict.test", "Omar")
        self.emulator.grant_admin_consent(tenant, CLIENT_ID)
        answer = self.emulator.issue_tokens("omar@strict.test", CLIENT_ID, GRAPH_SCOPES)
        self.emulator.revoke_consent("omar@strict.test", CLIENT_ID)
        return self.build({**answer, "access_token": None}, tenant)
