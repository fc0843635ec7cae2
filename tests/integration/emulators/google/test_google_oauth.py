"""Google OAuth: discovery and JWKS, authorize (consent page and automatic approval) ->
code -> token with PKCE S256, refusal of a wrong verifier and of a replayed code, refresh,
revocation -> invalid_grant, refresh-token issuance rules, granular consent, id_token claims."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from gemu_support import ALICE, CLIENT_ID, CLIENT_SECRET, EVENTS, EVENTS_SCOPE, REDIRECT
from joserfc import jwt
from joserfc.jwk import KeySet

from casecal.emulators.google import GoogleEmulator

DEAD = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def auth_params(challenge: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": f"openid email {EVENTS_SCOPE}",
        "access_type": "offline",
        "state": "st-1",
        "nonce": "n-1",
        "login_hint": ALICE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_form(code: str, verifier: str | None) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return form


async def exchange(raw: httpx.AsyncClient, code: str, verifier: str | None) -> httpx.Response:
    return await raw.post("/token", data=code_form(code, verifier))


async def refresh(raw: httpx.AsyncClient, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return await raw.post("/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))


async def test_interactive_consent_pkce_refresh_and_revoke(raw: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    page = await raw.get("/o/oauth2/v2/auth", params=auth_params(challenge))
    assert page.status_code == 200
    txn = re.search(r'name="txn" value="([^"]+)"', page.text)
    assert txn is not None
    assert EVENTS_SCOPE in page.text
    decided = await raw.post(
        "/o/oauth2/v2/auth/decide",
        data={"txn": txn.group(1), "account": ALICE, "action": "allow", "scope": EVENTS_SCOPE},
    )
    query = redirect_query(decided)
    assert query["state"] == "st-1"
    wrong = await exchange(raw, query["code"], pkce()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    missing = await exchange(raw, query["code"], None)
    assert missing.json()["error"] == "invalid_grant"
    good = await exchange(raw, query["code"], verifier)
    assert good.status_code == 200
    tokens: dict[str, Any] = good.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599
    assert EVENTS_SCOPE in tokens["scope"].split()
    assert tokens["refresh_token"]
    replay = await exchange(raw, query["code"], verifier)
    assert replay.json()["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await raw.get(EVENTS, headers=bearer)).status_code == 401, "replay revokes tokens"

    verifier, challenge = pkce()
    page = await raw.get("/o/oauth2/v2/auth", params=auth_params(challenge, prompt="consent"))
    txn = re.search(r'name="txn" value="([^"]+)"', page.text)
    assert txn is not None
    form = {"txn": txn.group(1), "account": ALICE, "action": "allow", "scope": EVENTS_SCOPE}
    query = redirect_query(await raw.post("/o/oauth2/v2/auth/decide", data=form))
    tokens = (await exchange(raw, query["code"], verifier)).json()
    renewed = await refresh(raw, tokens["refresh_token"])
    assert renewed.status_code == 200
    assert "refresh_token" not in renewed.json()
    assert renewed.json()["scope"] == tokens["scope"]
    bearer = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert (await raw.get(EVENTS, headers=bearer)).status_code == 200
    revoked = await raw.post("/revoke", params={"token": tokens["refresh_token"]})
    assert revoked.status_code == 200
    dead = await refresh(raw, tokens["refresh_token"])
    assert dead.status_code == 400
    assert dead.json() == DEAD
    assert (await raw.get(EVENTS, headers=bearer)).status_code == 401
    assert (await raw.post("/revoke", data={"token": "nope"})).status_code == 400


async def test_user_can_cancel_or_untick_scopes(
    emu: GoogleEmulator, raw: httpx.AsyncClient
) -> None:
    _, challenge = pkce()
    page = await raw.get("/o/oauth2/v2/auth", params=auth_params(challenge))
    txn = re.search(r'name="txn" value="([^"]+)"', page.text)
    assert txn is not None
    denied = await raw.post(
        "/o/oauth2/v2/auth/decide", data={"txn": txn.group(1), "account": ALICE, "action": "deny"}
    )
    assert redirect_query(denied) == {"error": "access_denied", "state": "st-1"}
    emu.auto_approve = True
    emu.declined_scopes = {EVENTS_SCOPE}
    verifier, challenge = pkce()
    query = redirect_query(await raw.get("/o/oauth2/v2/auth", params=auth_params(challenge)))
    tokens = (await exchange(raw, query["code"], verifier)).json()
    assert EVENTS_SCOPE not in tokens["scope"].split()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = await raw.get(EVENTS, headers=bearer)
    assert r.status_code == 403


async def test_refresh_token_only_on_first_consent(
    emu: GoogleEmulator, raw: httpx.AsyncClient
) -> None:
    emu.auto_approve = True
    seen = []
    for extra in ({}, {}, {"prompt": "consent"}):
        verifier, challenge = pkce()
        params = auth_params(challenge, **extra)
        query = redirect_query(await raw.get("/o/oauth2/v2/auth", params=params))
        seen.append("refresh_token" in (await exchange(raw, query["code"], verifier)).json())
    assert seen == [True, False, True]
    online = auth_params(pkce()[1], access_type="online", prompt="consent")
    verifier_less = redirect_query(await raw.get("/o/oauth2/v2/auth", params=online))
    assert verifier_less["code"]


async def test_authorize_refuses_bad_requests(emu: GoogleEmulator, raw: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    r = await raw.get("/o/oauth2/v2/auth", params=auth_params(challenge, client_id="unknown"))
    assert r.status_code == 401
    r = await raw.get(
        "/o/oauth2/v2/auth", params=auth_params(challenge, redirect_uri="https://evil.example/cb")
    )
    assert r.status_code == 400
    assert "redirect_uri_mismatch" in r.text
    r = await raw.get(
        "/o/oauth2/v2/auth", params=auth_params(challenge, scope="calendar.everything")
    )
    assert r.status_code == 400
    r = await raw.get("/o/oauth2/v2/auth", params=auth_params(challenge, prompt="none"))
    assert redirect_query(r)["error"] == "consent_required"


async def test_code_expiry_and_redirect_binding(
    emu: GoogleEmulator, raw: httpx.AsyncClient
) -> None:
    emu.auto_approve = True
    emu.register_client("other", "other-secret", [REDIRECT])
    verifier, challenge = pkce()
    query = redirect_query(await raw.get("/o/oauth2/v2/auth", params=auth_params(challenge)))
    form = code_form(query["code"], verifier)
    form["redirect_uri"] = REDIRECT + "/x"
    r = await raw.post("/token", data=form)
    assert r.json()["error"] == "redirect_uri_mismatch"
    form.update(redirect_uri=REDIRECT, client_id="other", client_secret="other-secret")
    assert (await raw.post("/token", data=form)).json()["error"] == "invalid_grant"
    form.update(client_id=CLIENT_ID, client_secret="wrong")
    assert (await raw.post("/token", data=form)).status_code == 401
    emu.advance(301)
    expired = await exchange(raw, query["code"], verifier)
    assert expired.json()["error"] == "invalid_grant"
    bad_grant = await raw.post(
        "/token", data={"grant_type": "password"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert bad_grant.json()["error"] == "unsupported_grant_type"


async def test_testing_clients_lose_refresh_tokens_after_seven_days(
    emu: GoogleEmulator, raw: httpx.AsyncClient
) -> None:
    emu.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT], testing=True)
    tokens = emu.issue_tokens(ALICE, CLIENT_ID, [EVENTS_SCOPE])
    emu.advance(6 * 86400)
    assert (await refresh(raw, tokens["refresh_token"])).status_code == 200
    emu.advance(86400 + 1)
    dead = await refresh(raw, tokens["refresh_token"])
    assert dead.json() == DEAD


async def test_id_token_and_discovery_under_a_mount_prefix(emu: GoogleEmulator) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    outer = Starlette(routes=[Mount("/google", app=emu.app)])
    transport = httpx.ASGITransport(app=outer)
    emu.auto_approve = True
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8025") as c:
        meta = (await c.get("/google/.well-known/openid-configuration")).json()
        issuer = "http://127.0.0.1:8025/google"
        assert meta["issuer"] == issuer
        assert meta["token_endpoint"] == issuer + "/token"
        jwks = (await c.get(meta["jwks_uri"])).json()
        verifier, challenge = pkce()
        query = redirect_query(
            await c.get(meta["authorization_endpoint"], params=auth_params(challenge))
        )
        form = code_form(query["code"], verifier)
        tokens = (await c.post(meta["token_endpoint"], data=form)).json()
        info = await c.get(
            meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    token = jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks))
    assert token.header["alg"] == "RS256"
    claims = token.claims
    assert claims["iss"] == issuer
    assert claims["aud"] == CLIENT_ID
    assert claims["email"] == ALICE
    assert claims["email_verified"] is True
    assert claims["nonce"] == "n-1"
    assert claims["sub"] == emu.state.accounts[ALICE].sub
    assert info.json()["sub"] == claims["sub"]
