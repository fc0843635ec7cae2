"""Google OAuth 2.0 / OpenID Connect endpoints: authorize (consent page or automatic
approval), token (authorization code + PKCE, refresh), revoke, discovery, JWKS, userinfo."""

from __future__ import annotations

import base64
import html
import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..requestlog import mark_page
from .context import Context, base_url
from .errors import OAuthError
from .tokens import (
    ADMIN_POLICY,
    AUTH,
    CODE_LIFETIME,
    IDENTITY_SCOPES,
    INSTALLED,
    WITHDRAWN,
    Code,
    normalize_scopes,
)

AUTHORIZE = "/o/oauth2/v2/auth"
CLAIMS = ["aud", "email", "email_verified", "exp", "iat", "iss", "name", "sub", "nonce"]


def routes(ctx: Context) -> list[Route]:
    pending: dict[str, dict[str, Any]] = {}

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        client = ctx.oauth.clients.get(params.get("client_id", ""))
        if client is None:
            return _error_page(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _error_page(400, "redirect_uri_mismatch", f"redirect_uri={redirect_uri}")
        state = params.get("state")
        if params.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        scopes = normalize_scopes(params.get("scope", ""))
        if not scopes:
            return _error_page(
                400,
                "invalid_scope",
                f"Some requested scopes were invalid: {params.get('scope', '')}",
            )
        access_type = params.get("access_type", "online")
        method = params.get("code_challenge_method", "plain")
        challenge = params.get("code_challenge")
        if access_type not in ("online", "offline") or (
            challenge is not None
            and (method not in ("S256", "plain") or not 43 <= len(challenge) <= 128)
        ):
            return _error_page(400, "invalid_request", "Invalid parameter value.")
        prompts = set(params.get("prompt", "").split())
        email = params.get("login_hint")
        txn = {
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scopes": scopes,
            "offline": access_type == "offline",
            "consent": "consent" in prompts,
            "include": params.get("include_granted_scopes") == "true",
            "challenge": challenge,
            "method": method if challenge is not None else "plain",
            "nonce": params.get("nonce"),
        }
        known = email in ctx.state.accounts
        installed = ctx.oauth.install_state(str(email), client.client_id) if known else ""
        if installed == WITHDRAWN:
            return _redirect(redirect_uri, {"error": "admin_policy_enforced", "state": state,
                                            "error_description": ADMIN_POLICY})  # fmt: skip
        txn["installed"] = installed == INSTALLED
        if installed == INSTALLED:  # the admin consented for the domain: no consent screen
            return _approve(txn, str(email), scopes)
        if "none" in prompts:
            granted = ctx.oauth.grants.get((email or "", client.client_id), set())
            if not known or not set(scopes) <= granted:
                return _redirect(redirect_uri, {"error": "consent_required", "state": state})
            return _approve(txn, str(email), scopes)
        if ctx.auto_approve and known:
            allowed = [s for s in scopes if s in IDENTITY_SCOPES or s not in ctx.declined_scopes]
            mark_page(request.scope, "consent")  # the consent screen, accepted for the user
            return _approve(txn, str(email), allowed)
        txn_id = secrets.token_urlsafe(16)
        pending[txn_id] = txn
        mark_page(request.scope, "consent")
        return HTMLResponse(_consent_page(ctx, txn_id, txn, email, base_url(request)))

    def _approve(txn: dict[str, Any], email: str, approved: list[str]) -> Response:
        key = (email, txn["client_id"])
        first = key not in ctx.oauth.grants
        scopes = list(approved)
        if txn["include"]:
            scopes += [s for s in sorted(ctx.oauth.grants.get(key, set())) if s not in scopes]
        code = Code(
            client_id=txn["client_id"],
            redirect_uri=txn["redirect_uri"],
            email=email,
            scopes=scopes,
            challenge=txn["challenge"],
            method=txn["method"],
            nonce=txn["nonce"],
            expires=ctx.clock.now() + CODE_LIFETIME,
            offline=txn["offline"] and (first or txn["consent"] or txn.get("installed", False)),
        )
        ctx.oauth.grants.setdefault(key, set()).update(scopes)
        value = ctx.oauth.new_code(code)
        return _redirect(
            txn["redirect_uri"],
            {"code": value, "scope": " ".join(scopes), "state": txn["state"], "authuser": "0"},
        )

    async def decide(request: Request) -> Response:
        form = await request.form()
        txn = pending.pop(str(form.get("txn", "")), None)
        if txn is None:
            return _error_page(400, "invalid_request", "Unknown or used consent transaction.")
        email = str(form.get("account", ""))
        if form.get("action") != "allow":
            return _redirect(txn["redirect_uri"], {"error": "access_denied", "state": txn["state"]})
        if email not in ctx.state.accounts:
            return _error_page(400, "invalid_request", f"Unknown account {email}")
        ticked = set(form.getlist("scope"))
        approved = [s for s in txn["scopes"] if s in IDENTITY_SCOPES or s in ticked]
        return _approve(txn, email, approved)

    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:]).decode()
            except ValueError:
                decoded = ":"
            client_id, _, secret = decoded.partition(":")
        try:
            client = ctx.oauth.authenticate(client_id, secret)
            grant = form.get("grant_type")
            issuer = base_url(request)
            if grant == "authorization_code":
                answer = ctx.oauth.exchange(
                    client, form.get("code", ""), form.get("redirect_uri"),
                    form.get("code_verifier"), issuer,
                )  # fmt: skip
            elif grant == "refresh_token":
                answer = ctx.oauth.refresh(client, form.get("refresh_token", ""), issuer)
            else:
                raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
        except OAuthError as exc:
            return exc.response()
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def revoke(request: Request) -> Response:
        value = request.query_params.get("token") or str((await request.form()).get("token", ""))
        if not ctx.oauth.revoke(value):
            return OAuthError(400, "invalid_token", "Token expired or revoked").response()
        return JSONResponse({})

    async def discovery(request: Request) -> Response:
        base = base_url(request)
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": base + AUTHORIZE,
                "token_endpoint": base + "/token",
                "userinfo_endpoint": base + "/oauth2/v3/userinfo",
                "revocation_endpoint": base + "/revoke",
                "jwks_uri": base + "/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": CLAIMS,
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            }
        )

    async def certs(_request: Request) -> Response:
        return JSONResponse(ctx.key.jwks())

    async def userinfo(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        live = (
            ctx.oauth.live(header[7:], refresh=False) if header[:7].lower() == "bearer " else None
        )
        if live is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Invalid Credentials"},
                status_code=401,
            )
        account = ctx.state.accounts[live.email]
        info: dict[str, Any] = {"sub": account.sub}
        if AUTH + "userinfo.email" in live.scopes:
            info.update(email=account.email, email_verified=account.email_verified)
        if account.hosted_domain:
            info["hd"] = account.hosted_domain
        if AUTH + "userinfo.profile" in live.scopes:
            info["name"] = account.name
        return JSONResponse(info)

    async def install(request: Request) -> Response:
        """The Marketplace's admin install for a whole Workspace domain: a super administrator
        approves the app's scopes for every user of their domain, and returns to the app with
        the domain (``hd``). Auto-approve installs as ``login_hint``; otherwise a page asks."""
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        client = ctx.oauth.clients.get(params.get("client_id", ""))
        if client is None:
            return _error_page(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _error_page(400, "redirect_uri_mismatch", f"redirect_uri={redirect_uri}")
        state, email = params.get("state"), params.get("login_hint", "")
        mark_page(request.scope, "consent")  # the admin's own consent, for the domain
        if request.method == "GET" and not (ctx.auto_approve and email in ctx.state.accounts):
            return HTMLResponse(_install_page(params, base_url(request)))
        if params.get("action", "allow") != "allow":
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        account = ctx.state.accounts.get(email)
        if account is None or not account.hosted_domain or not account.is_admin:
            return _redirect(redirect_uri, {
                "error": "access_denied", "state": state,
                "error_description": "Only a super administrator of a Google Workspace domain "
                "can install apps for it.",
            })  # fmt: skip
        domain = account.hosted_domain.lower()
        ctx.oauth.installs[(domain, client.client_id)] = INSTALLED
        return _redirect(redirect_uri, {"state": state, "hd": domain, "installed": "true"})

    return [
        Route("/marketplace/install", install, methods=["GET", "POST"]),
        Route(AUTHORIZE, authorize, methods=["GET"]),
        Route(AUTHORIZE + "/decide", decide, methods=["POST"]),
        Route("/token", token, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/oauth2/v3/certs", certs, methods=["GET"]),
        Route("/oauth2/v3/userinfo", userinfo, methods=["GET", "POST"]),
    ]


def _redirect(uri: str, params: dict[str, Any]) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=302)


def _error_page(status: int, error: str, detail: str) -> Response:
    body = (
        "<!doctype html><title>Authorization error</title>"
        f"<h1>Error {status}: {html.escape(error)}</h1><p>{html.escape(detail)}</p>"
    )
    return HTMLResponse(body, status_code=status)


def _install_page(params: dict[str, str], base: str) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k not in ("login_hint", "action")
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Install app - Google Workspace "
        f"Marketplace</title></head><body><h1>Install {html.escape(params.get('client_id', ''))}"
        " for everyone in your domain</h1>"
        f'<form method="post" action="{html.escape(base)}/marketplace/install">{hidden}'
        f'<p><label>Admin account <input name="login_hint" '
        f'value="{html.escape(params.get("login_hint", ""))}"></label></p>'
        '<button name="action" value="allow">Allow</button> '
        '<button name="action" value="deny">Cancel</button></form></body></html>'
    )


def _consent_page(
    ctx: Context, txn_id: str, txn: dict[str, Any], hint: str | None, base: str
) -> str:
    accounts = [hint] if hint in ctx.state.accounts else sorted(ctx.state.accounts)
    options = "".join(
        f'<option value="{html.escape(a)}">{html.escape(a)}</option>' for a in accounts
    )
    boxes = "".join(
        f'<li><label><input type="checkbox" name="scope" value="{html.escape(s)}" checked> '
        f"{html.escape(s)}</label></li>"
        for s in txn["scopes"]
        if s not in IDENTITY_SCOPES
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Sign in - Google Accounts"
        "</title></head><body>"
        f"<h1>{html.escape(txn['client_id'])} wants access to your Google Account</h1>"
        f'<form method="post" action="{html.escape(base + AUTHORIZE)}/decide">'
        f'<input type="hidden" name="txn" value="{html.escape(txn_id)}">'
        f'<p><label>Account <select name="account">{options}</select></label></p>'
        f"<p>Select what the app can access:</p><ul>{boxes}</ul>"
        '<button name="action" value="allow">Continue</button> '
        '<button name="action" value="deny">Cancel</button></form></body></html>'
    )
