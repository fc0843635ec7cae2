"""Connecting a CalDAV calendar (iCloud, Fastmail, Nextcloud or any CalDAV server): the server
URL (a preset or the user's), the username and an app-specific password; the account is
discovered (``/.well-known/caldav``, the principal, the calendar home) and its calendars read
before anything is stored, then the credentials are kept encrypted like refresh tokens. What
follows (the calendar choice, activation, approval) is the same as for the OAuth providers."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.caldav_credentials import CalDavCredentials
from casecal.auth.encryption import TokenCipher
from casecal.config import Settings
from casecal.errors import Conflict, ValidationFailed
from casecal.providers.caldav import BasicCredentials, CalDavProvider
from casecal.providers.errors import AuthExpired, NotFound, ProviderError
from casecal.services import audit
from casecal.services.access import Actor
from casecal.services.connect import (
    ConnectOutcome,
    _connection,
    _require_allowed,
    _require_seat,
    _user,
)
from casecal.store.tables import Connection, ConnectionStatus, ProviderName, utcnow


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    server_url: str
    """Empty: the user enters their server (Nextcloud)."""
    path: str
    """Appended to a server the user enters (Nextcloud's DAV root)."""
    app_password_help: str


PRESETS = (
    Preset(
        "icloud", "iCloud", "https://caldav.icloud.com/", "",
        "Sign in at account.apple.com, open Sign-In and Security > App-Specific Passwords, "
        "and generate one named CaseCal (two-factor authentication must be on). The username "
        "is your Apple Account email address.",
    ),
    Preset(
        "fastmail", "Fastmail", "https://caldav.fastmail.com/", "",
        "In Fastmail, open Settings > Privacy & Security > Manage app passwords and access, "
        "choose New app password, and give it access to Calendars (CalDAV). The username is "
        "your Fastmail email address.",
    ),
    Preset(
        "nextcloud", "Nextcloud", "", "/remote.php/dav/",
        "In Nextcloud, open your avatar > Personal settings > Security, and under Devices & "
        "sessions create a new app password named CaseCal. The server is your Nextcloud "
        "address (https://cloud.example.com); the username is your Nextcloud login.",
    ),
    Preset(
        "other", "Other CalDAV server", "", "",
        "Use an app-specific password if your provider offers one, never your main password. "
        "The server is the CalDAV address your provider gives.",
    ),
)  # fmt: skip
BY_KEY = {p.key: p for p in PRESETS}
_LOOPBACK_HOSTS = frozenset({"localhost"})


def server_url_for(preset_key: str, entered: str) -> str:
    """The server URL to discover from: the preset's own, or the one entered (Nextcloud's
    DAV root appended to a bare server address). HTTPS only, except on the loopback
    interface (a server on the same machine)."""
    preset = BY_KEY.get(preset_key)
    if preset is None:
        raise ValidationFailed("choose a calendar service", field="preset")
    url = preset.server_url or entered.strip()
    if not url:
        raise ValidationFailed("enter your server's address", field="server_url")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username:
        raise ValidationFailed("enter the server's address, like https://cloud.example.com",
                               field="server_url")  # fmt: skip
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValidationFailed("the server's address must start with https://",
                               field="server_url")  # fmt: skip
    path = parts.path or "/"
    if preset.path and path in ("", "/"):
        path = preset.path
    if not path.endswith("/"):
        path += "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def connect_caldav(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    actor: Actor,
    *,
    preset: str,
    server_url: str,
    username: str,
    app_password: str,
    connection_id: uuid.UUID | None = None,
) -> ConnectOutcome:
    """Check the account on the server and keep its credentials (encrypted) on a pending
    connection, or on ``connection_id`` when re-authorising it with a new app password. A
    refused or unreachable account stores nothing."""
    await _user(session, actor)
    await _require_seat(session, actor)
    await _require_allowed(session, actor, ProviderName.CALDAV)
    url = server_url_for(preset, server_url)
    username = username.strip()
    if not username or len(username) > 320:
        raise ValidationFailed("enter your username", field="username")
    if not app_password or len(app_password) > 1024:
        raise ValidationFailed("enter the app password", field="app_password")
    adapter = CalDavProvider(
        http, BasicCredentials(username, app_password), server_url=url, username=username
    )
    try:
        identity = await adapter.identity()
        calendars = await adapter.list_calendars(writable_only=True)
    except AuthExpired:
        return ConnectOutcome("refused", None,
                              "The server refused the username and app password. Check the "
                              "username and make a new app password.")  # fmt: skip
    except NotFound:
        return ConnectOutcome("refused", None,
                              "No CalDAV account was found at that address.")  # fmt: skip
    except (ProviderError, httpx.HTTPError):
        return ConnectOutcome("refused", None,
                              "The server could not be reached or did not answer as a CalDAV "
                              "server. Check the address.")  # fmt: skip
    if not calendars:
        message = "The account has no calendar CaseCal can write events to."
        return ConnectOutcome("refused", None, message)
    conn = await _row(session, actor, connection_id)
    reauthorised = conn.calendar_id is not None and conn.activated_at is not None
    now = utcnow()
    conn.refresh_token_enc = CalDavCredentials(url, username, app_password).seal(
        TokenCipher.from_settings(settings)
    )
    conn.access_token_enc = conn.access_token_expires_at = None
    conn.account_email = identity.email[:320]
    conn.account_subject = identity.subject[:128]
    if conn.status is not ConnectionStatus.AWAITING_APPROVAL:
        conn.status = ConnectionStatus.ACTIVE if reauthorised else ConnectionStatus.PENDING
        conn.status_reason = ""
    conn.consecutive_failures, conn.backoff_until = 0, None
    conn.last_authorized_at = now
    if reauthorised:
        conn.sync_requested_at = now
    audit.record(
        session, actor.firm_id, actor.user_id, "connection.authorized", f"connection:{conn.id}",
        {"provider": "caldav", "account_email": identity.email, "server": urlsplit(url).netloc,
         "reauthorised": reauthorised},
    )  # fmt: skip
    await session.commit()
    message = (
        "Re-authorised: syncing resumes."
        if reauthorised
        else f"Connected {identity.email}. Choose the calendar to keep in sync."
    )
    return ConnectOutcome("choose_calendar", conn.id, message, None, identity.email)


async def _row(session: AsyncSession, actor: Actor, connection_id: uuid.UUID | None) -> Connection:
    if connection_id is not None:
        conn = await _connection(session, actor, connection_id, own=True)
        if conn.provider is not ProviderName.CALDAV or conn.status is ConnectionStatus.DISCONNECTED:
            raise Conflict("this connection cannot be re-authorised: connect a new calendar")
        return conn
    mine = (
        await session.scalars(
            select(Connection).where(
                Connection.user_id == actor.user_id,
                Connection.firm_id == actor.firm_id,
                Connection.status != ConnectionStatus.DISCONNECTED,
            )
        )
    ).all()
    busy = (
        ConnectionStatus.ACTIVE,
        ConnectionStatus.PAUSED_DELETIONS,
        ConnectionStatus.NEEDS_REAUTH,
        ConnectionStatus.AWAITING_APPROVAL,
    )
    if any(c.status in busy for c in mine):
        raise Conflict("you already have a connected calendar: use Modify or Disconnect")
    reusable = [c for c in mine if c.provider is ProviderName.CALDAV]
    if reusable:
        return reusable[0]
    conn = Connection(
        id=uuid.uuid4(),
        firm_id=actor.firm_id,
        user_id=actor.user_id,
        provider=ProviderName.CALDAV,
        status=ConnectionStatus.PENDING,
    )
    session.add(conn)
    await session.flush()
    return conn
