"""OAuth ``state``: single use, bound to the signed-in browser (SHA-256 of its session id),
expiring after 10 minutes. Consuming marks it used atomically; a replayed state, one from
another browser, and an expired one each get their own error."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.oauth import new_secret
from casecal.errors import DomainError
from casecal.store.tables import OAuthState, ProviderName, utcnow

STATE_LIFETIME = timedelta(minutes=10)


class OAuthRefused(DomainError):
    """An authorisation answer CaseCal will not accept."""

    status_code = 400
    title = "Authorisation refused"


class StateUnknown(OAuthRefused):
    def __init__(self) -> None:
        super().__init__(
            "This sign-in link is not one CaseCal started. Start again from Calendar Sync."
        )


class StateReplayed(OAuthRefused):
    def __init__(self) -> None:
        super().__init__(
            "This sign-in answer was already used once. Nothing was changed; start again from "
            "Calendar Sync."
        )


class StateFromOtherBrowser(OAuthRefused):
    def __init__(self) -> None:
        super().__init__(
            "This sign-in was started in another browser or by another signed-in user, so "
            "CaseCal refused it. Start again from Calendar Sync in this browser."
        )


class StateExpired(OAuthRefused):
    def __init__(self) -> None:
        super().__init__(
            "This sign-in took longer than 10 minutes and has expired. Start again from "
            "Calendar Sync."
        )


def browser_binding(session_id: str) -> str:
    """The binding of a browser: SHA-256 (hex) of its ``WebSession.id``."""
    return hashlib.sha256(session_id.encode()).hexdigest()


async def create_state(
    session: AsyncSession,
    *,
    firm_id: uuid.UUID,
    user_id: uuid.UUID,
    provider: ProviderName,
    browser_binding: str,
    redirect_uri: str,
    purpose: str = "connect",
    connection_id: uuid.UUID | None = None,
) -> OAuthState:
    """A fresh state with its PKCE verifier and nonce (flushed, not committed)."""
    now = utcnow()
    row = OAuthState(
        state=new_secret(),
        firm_id=firm_id,
        user_id=user_id,
        provider=provider,
        purpose=purpose,
        browser_binding=browser_binding,
        code_verifier=new_secret() if purpose == "connect" else "",
        nonce=new_secret() if purpose == "connect" else "",
        redirect_uri=redirect_uri,
        connection_id=connection_id,
        created_at=now,
        expires_at=now + STATE_LIFETIME,
    )
    session.add(row)
    await session.flush()
    return row


async def consume_state(
    session: AsyncSession, value: str, *, browser_binding: str, purpose: str
) -> OAuthState:
    """Check and use up a state; commits the "used" mark at once so that it holds even if
    what follows fails."""
    row = await session.get(OAuthState, value) if value else None
    if row is None or row.purpose != purpose:
        raise StateUnknown()
    if row.used_at is not None:
        raise StateReplayed()
    if not hmac.compare_digest(row.browser_binding, browser_binding):
        raise StateFromOtherBrowser()
    now = utcnow()
    if row.expires_at <= now:
        raise StateExpired()
    result = await session.execute(
        update(OAuthState)
        .where(OAuthState.state == value, OAuthState.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise StateReplayed()
    await session.commit()
    await session.refresh(row)
    return row
