"""The emulated Microsoft identity platform: authorization code + PKCE, the per-tenant consent
policy (AADSTS90094), admin consent, refresh with the documented AADSTS refusals, id_tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from ms_support import CLIENT_ID, REDIRECT, SECRET, World, pkce_pair

from casecal.emulators.microsoft import IdentityError, MicrosoftEmulator

SCOPE = "openid profile offline_access User.Read https://graph.microsoft.com/Calendars.ReadWrite"


def location_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def authorize(
    client: httpx.AsyncClient, tenant: str, upn: str, challenge: str, **extra: str
) -> httpx.Response:
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "st-1",
        "nonce": "nonce-1",
        "login_hint": upn,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return await client.get(f"/{tenant}/oauth2/v2.0/authorize", params=params)


async def redeem(
    client: httpx.AsyncClient, code: str, verifier: str, tenant: str = "organizations", **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **extra,
    }
    return await client.post(f"/{tenant}/oauth2/v2.0/token", data=form)


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "refresh_token": token,
    }
    return await client.post("/common/oauth2/v2.0/token", data=form)


def assert_aadsts(response: httpx.Response, error: str, code: int) -> None:
    body = response.json()
    assert body["error"] == error, body
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}:")


async def sign_in(client: httpx.AsyncClient, tenant: str, upn: str) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    code = location_query(await authorize(client, tenant, upn, challenge))["code"]
    response = await redeem(client, code, verifier)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(autouse=True)
def _auto(emu: MicrosoftEmulator) -> None:
    emu.auto_approve = True


async def test_user_consent_tenant_code_flow_issues_verified_id_token(
    client: httpx.AsyncClient, world: World
) -> None:
    tokens = await sign_in(client, "contoso.com", "ann@contoso.com")
    assert tokens["token_type"] == "Bearer"
    assert "https://graph.microsoft.com/Calendars.ReadWrite" in tokens["scope"].split()
    assert tokens["refresh_token"]
    assert 3600 <= tokens["expires_in"] < 5400

    discovery = await client.get(f"/{world.user_tenant}/v2.0/.well-known/openid-configuration")
    config = discovery.json()
    assert config["issuer"] == f"http://testserver/{world.user_tenant}/v2.0"
    keys = KeySet.import_key_set((await client.get(config["jwks_uri"])).json())
    claims = jwt.decode(tokens["id_token"], keys).claims
    assert claims["iss"] == config["issuer"]
    assert claims["aud"] == CLIENT_ID
    assert (claims["oid"], claims["tid"]) == (world.ann, world.user_tenant)
    assert claims["preferred_username"] == "ann@contoso.com"
    assert claims["email"] == "ann@contoso.com"
    assert claims["name"] == "Ann Lee"
    assert claims["nonce"] == "nonce-1"

    me = await client.get("/v1.0/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == world.ann


async def test_state_is_echoed_with_the_code(client: httpx.AsyncClient, world: World) -> None:
    _, challenge = pkce_pair()
    query = location_query(await authorize(client, "common", "ann@contoso.com", challenge))
    assert query["state"] == "st-1"
    assert query["code"]


async def test_interactive_sign_in_page_when_not_auto_approving(
    client: httpx.AsyncClient, emu: MicrosoftEmulator, world: World
) -> None:
    emu.auto_approve = False
    verifier, challenge = pkce_pair()
    page = await authorize(client, "common", "ann@contoso.com", challenge)
    assert page.status_code == 200
    assert "<form" in page.text
    assert "ann@contoso.com" in page.text
    form = dict(parse_qs(urlsplit(str(page.request.url)).query))
    data = {k: v[0] for k, v in form.items() if k != "login_hint"}
    data.update({"username": "ann@contoso.com", "decision": "accept"})
    posted = await client.post("/common/oauth2/v2.0/authorize", data=data)
    code = location_query(posted)["code"]
    assert (await redeem(client, code, verifier)).status_code == 200

    data["decision"] = "cancel"
    cancelled = location_query(await client.post("/common/oauth2/v2.0/authorize", data=data))
    assert cancelled["error"] == "access_denied"
    assert "AADSTS65004" in cancelled["error_description"]


async def test_admin_consent_tenant_requires_an_admin_then_user_succeeds(
    client: httpx.AsyncClient, world: World
) -> None:
    verifier, challenge = pkce_pair()
    refused = location_query(await authorize(client, "fabrikam.com", "bob@fabrikam.com", challenge))
    assert refused["error"] == "consent_required"
    assert refused["error_description"].startswith("AADSTS90094")
    assert refused["state"] == "st-1"

    consent_params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": "adm-1"}
    by_user = await client.get(
        "/fabrikam.com/adminconsent", params={**consent_params, "login_hint": "bob@fabrikam.com"}
    )
    denied = location_query(by_user)
    assert denied["error"] == "access_denied"
    assert "AADSTS90093" in denied["error_description"]
    assert denied["state"] == "adm-1"

    by_admin = await client.get(
        f"/{world.admin_tenant}/v2.0/adminconsent",
        params={
            **consent_params,
            "scope": "https://graph.microsoft.com/.default",
            "login_hint": "carol@fabrikam.com",
        },
    )
    granted = location_query(by_admin)
    assert granted == {
        "admin_consent": "True",
        "tenant": world.admin_tenant,
        "state": "adm-1",
        "scope": "https://graph.microsoft.com/.default",
    }

    code = location_query(await authorize(client, "fabrikam.com", "bob@fabrikam.com", challenge))
    tokens = await redeem(client, code["code"], verifier)
    assert tokens.status_code == 200


async def test_admin_may_consent_for_themself_on_an_admin_consent_tenant(
    client: httpx.AsyncClient, world: World
) -> None:
    tokens = await sign_in(client, "fabrikam.com", "carol@fabrikam.com")
    assert tokens["access_token"]


async def test_admin_consent_needs_a_tenant_not_common(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(
        "/common/adminconsent",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "login_hint": "carol@fabrikam.com",
        },
    )
    assert response.status_code == 400
    assert "AADSTS90009" in response.text


async def test_wrong_pkce_verifier_is_refused(client: httpx.AsyncClient, world: World) -> None:
    _, challenge = pkce_pair()
    code = location_query(await authorize(client, "common", "ann@contoso.com", challenge))["code"]
    response = await redeem(client, code, "w" * 50)
    assert response.status_code == 400
    assert_aadsts(response, "invalid_grant", 501481)


async def test_missing_verifier_is_refused(client: httpx.AsyncClient, world: World) -> None:
    _, challenge = pkce_pair()
    code = location_query(await authorize(client, "common", "ann@contoso.com", challenge))["code"]
    response = await redeem(client, code, "")
    assert_aadsts(response, "invalid_grant", 501491)


async def test_code_is_single_use(client: httpx.AsyncClient, world: World) -> None:
    verifier, challenge = pkce_pair()
    code = location_query(await authorize(client, "common", "ann@contoso.com", challenge))["code"]
    assert (await redeem(client, code, verifier)).status_code == 200
    replay = await redeem(client, code, verifier)
    assert replay.status_code == 400
    assert_aadsts(replay, "invalid_grant", 54005)


async def test_code_is_bound_to_its_redirect_uri(client: httpx.AsyncClient, world: World) -> None:
    verifier, challenge = pkce_pair()
    code = location_query(await authorize(client, "common", "ann@contoso.com", challenge))["code"]
    response = await redeem(client, code, verifier, redirect_uri="https://casecal.test/other")
    assert_aadsts(response, "invalid_grant", 70000)


async def test_authorize_requires_s256_pkce(client: httpx.AsyncClient, world: World) -> None:
    response = await authorize(
        client, "common", "ann@contoso.com", "plain-challenge", code_challenge_method="plain"
    )
    query = location_query(response)
    assert query["error"] == "invalid_request"
    assert "AADSTS9002325" in query["error_description"]


async def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    client: httpx.AsyncClient, world: World
) -> None:
    _, challenge = pkce_pair()
    response = await authorize(
        client, "common", "ann@contoso.com", challenge, redirect_uri="https://evil.test/cb"
    )
    assert response.status_code == 400
    assert "AADSTS50011" in response.text


async def test_bad_client_secret_is_invalid_client(client: httpx.AsyncClient, world: World) -> None:
    verifier, challenge = pkce_pair()
    code = location_query(await authorize(client, "common", "ann@contoso.com", challenge))["code"]
    response = await redeem(client, code, verifier, client_secret="wrong")
    assert response.status_code == 401
    assert_aadsts(response, "invalid_client", 7000215)


async def test_refresh_returns_new_tokens_and_old_refresh_token_still_works(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await sign_in(client, "common", "ann@contoso.com")
    renewed = await refresh(client, first["refresh_token"])
    assert renewed.status_code == 200
    body = renewed.json()
    assert body["access_token"] != first["access_token"]
    assert body["refresh_token"] != first["refresh_token"]
    assert (await refresh(client, first["refresh_token"])).status_code == 200


async def test_revoked_grant_is_invalid_grant_50173(
    client: httpx.AsyncClient, emu: MicrosoftEmulator, world: World
) -> None:
    tokens = await sign_in(client, "common", "ann@contoso.com")
    emu.revoke("ann@contoso.com")
    response = await refresh(client, tokens["refresh_token"])
    assert response.status_code == 400
    assert_aadsts(response, "invalid_grant", 50173)
    graph = await client.get(
        "/v1.0/me/events", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert graph.status_code == 401
    assert graph.json()["error"]["code"] == "InvalidAuthenticationToken"


async def test_revocation_over_http(client: httpx.AsyncClient, world: World) -> None:
    tokens = await sign_in(client, "common", "ann@contoso.com")
    revoked = await client.post("/_emulator/revoke", json={"target": tokens["refresh_token"]})
    assert revoked.json() == {"revoked": 1}
    assert_aadsts(await refresh(client, tokens["refresh_token"]), "invalid_grant", 50173)


@pytest.mark.parametrize(("reason", "code"), [("expired", 70008), ("inactive", 700082)])
async def test_expired_refresh_tokens(
    client: httpx.AsyncClient, emu: MicrosoftEmulator, world: World, reason: str, code: int
) -> None:
    tokens = await sign_in(client, "common", "ann@contoso.com")
    emu.expire_refresh_tokens(tokens["refresh_token"], reason)
    assert_aadsts(await refresh(client, tokens["refresh_token"]), "invalid_grant", code)


async def test_refresh_token_unused_for_90_days_expires(
    client: httpx.AsyncClient, emu: MicrosoftEmulator, world: World
) -> None:
    tokens = await sign_in(client, "common", "ann@contoso.com")
    emu.state.clock.advance(91 * 86400)
    assert_aadsts(await refresh(client, tokens["refresh_token"]), "invalid_grant", 700082)


async def test_refresh_without_consent_is_65001(
    client: httpx.AsyncClient, emu: MicrosoftEmulator, world: World
) -> None:
    tokens = await sign_in(client, "common", "ann@contoso.com")
    emu.revoke_consent("ann@contoso.com", CLIENT_ID)
    response = await refresh(client, tokens["refresh_token"])
    assert_aadsts(response, "invalid_grant", 65001)
    assert response.json()["suberror"] == "consent_required"


async def test_issue_tokens_refuses_like_sign_in_when_admin_consent_missing(
    emu: MicrosoftEmulator, world: World
) -> None:
    with pytest.raises(IdentityError) as refused:
        emu.issue_tokens("bob@fabrikam.com", CLIENT_ID, ["Calendars.ReadWrite"])
    assert refused.value.code == 90094
    emu.grant_admin_consent(world.admin_tenant, CLIENT_ID)
    assert emu.issue_tokens("bob@fabrikam.com", CLIENT_ID, ["Calendars.ReadWrite"])["access_token"]


async def test_common_discovery_uses_the_tenantid_template(client: httpx.AsyncClient) -> None:
    config = (await client.get("/common/v2.0/.well-known/openid-configuration")).json()
    assert config["issuer"] == "http://testserver/{tenantid}/v2.0"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    unknown = await client.get("/nowhere.example/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400
    assert unknown.json()["error_codes"] == [90002]


async def test_graph_checks_token_scopes_and_lifetime(
    client: httpx.AsyncClient, emu: MicrosoftEmulator, world: World
) -> None:
    calendars_only = emu.issue_tokens("ann@contoso.com", CLIENT_ID, ["Calendars.Read"])
    headers = {"Authorization": f"Bearer {calendars_only['access_token']}"}
    assert (await client.get("/v1.0/me", headers=headers)).status_code == 403
    assert (await client.get("/v1.0/me/events", headers=headers)).status_code == 200
    write = await client.post("/v1.0/me/events", headers=headers, json={})
    assert write.status_code == 403
    assert write.json()["error"]["code"] == "ErrorAccessDenied"
    emu.state.clock.advance(2 * 3600)
    expired = await client.get("/v1.0/me/events", headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]["message"]
    assert (await client.get("/v1.0/me/events")).status_code == 401


async def test_code_is_bound_to_its_client(
    client: httpx.AsyncClient, emu: MicrosoftEmulator, world: World
) -> None:
    emu.register_app("other-client", "other-secret", [REDIRECT])
    verifier, challenge = pkce_pair()
    code = location_query(await authorize(client, "common", "ann@contoso.com", challenge))["code"]
    response = await redeem(
        client, code, verifier, client_id="other-client", client_secret="other-secret"
    )
    assert_aadsts(response, "invalid_grant", 70000)


async def test_client_secret_basic_authentication(client: httpx.AsyncClient, world: World) -> None:
    verifier, challenge = pkce_pair()
    code = location_query(await authorize(client, "common", "ann@contoso.com", challenge))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    response = await client.post(
        "/common/oauth2/v2.0/token", data=form, auth=httpx.BasicAuth(CLIENT_ID, SECRET)
    )
    assert response.status_code == 200, response.text
    json_body = await client.post("/common/oauth2/v2.0/token", json=form)
    assert json_body.status_code == 400
