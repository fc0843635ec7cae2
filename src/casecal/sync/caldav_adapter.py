"""The CalDAV adapter of a stored connection: its sealed credentials opened, Basic auth with
the app password, the firm's request budget."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from casecal.auth.caldav_credentials import CalDavCredentials
from casecal.auth.encryption import TokenCipher
from casecal.providers.budget import WindowBudget
from casecal.providers.caldav import BasicCredentials, CalDavProvider


def caldav_adapter(
    client: httpx.AsyncClient,
    cipher: TokenCipher,
    sealed: str,
    budgets: Sequence[WindowBudget] = (),
) -> CalDavProvider:
    found = CalDavCredentials.open(cipher, sealed)
    return CalDavProvider(
        client,
        BasicCredentials(found.username, found.password),
        server_url=found.server_url,
        username=found.username,
        budgets=budgets,
    )
