"""The Microsoft identity platform endpoints: v2.0 authorize (a sign-in and consent page, or
auto-approval of ``login_hint``), token, admin consent, OpenID discovery and JWKS."""

from __future__ import annotations

import base64
import secrets
import uuid
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from casecal.emulators.keys import SigningKey
from casecal.emulators.microsoft import consent, tokens
from casecal.emulators.microsoft.consent import Consent, IdentityError
from casecal.emulators.microsoft.identity_pages import (
    error_json,
    error_page,
    redirect,
    sign_in_page,
)
from casecal.emulators.microsoft.state import AuthCode, MicrosoftState
from casecal.emulators.microsoft.urls import base_url
from casecal.emulators.requestlog import mark_page


class Identity:
    """Starlette endpoints of the identity platform over the shared state."""

    def __init__(self, state: MicrosoftState, keys: SigningKey) -> None:
        self.state = state
        self.keys = keys

    def routes(self) -> list[Route]:
        return [
            Route("/{tenant}/oauth2/v2.0/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
            Route("/{tenant}/adminconsent", self.admin_consent, methods=["GET", "POST"]),
            Route("/{tenant}/v2.0/adminconsent", self.admin_consent, methods=["GET", "POST"]),
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self.discovery),
            Route("/{tenant}/discovery/v2.0/keys", self.jwks),
        ]

    # -- authorize -----------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: str(v) for k, v in form.items()})
        return params

    def _client_and_redirect(self, tenant: str, params: dict[str, str]) -> None:
        if not consent.known_tenant(self.state, tenant):
            raise IdentityError("invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        app = self.state.apps.get(params.get("client_id", ""))
        if app is None:
            raise IdentityError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{params.get('client_id')}' was "
                "not found in the directory.",
            )
        if params.get("redirect_uri") not in app.redirect_uris:
            raise IdentityError(
                "invalid_request",
                50011,
                f"The redirect URI '{params.get('redirect_uri')}' specified in "
                "the request does not match the redirect URIs configured for "
                f"the application '{app.client_id}'.",
            )

    async def authorize(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        params = await self._params(request)
        try:
            self._client_and_redirect(tenant, params)
        except IdentityError as exc:
            return error_page(exc)
        uri, state_param = params["redirect_uri"], params.get("state")
        try:
            if params.get("response_type") != "code":
                raise IdentityError(
                    "unsupported_response_type",
                    700054,
                    "response_type must be 'code' for this application.",
                )
            graph, oidc = consent.parse_scopes(params.get("scope"))
            if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
                raise IdentityError(
                    "invalid_request",
                    9002325,
                    "Proof Key for Code Exchange (S256) is required: send "
                    "code_challenge and code_challenge_method=S256.",
                )
            decision = params.get("decision")
            hint = params.get("login_hint") or params.get("username")
            interactive = request.method == "GET" and not self.state.auto_approve
            if params.get("prompt") == "none" and not hint:
                raise IdentityError(
                    "login_required",
                    50058,
                    "A silent sign-in request was sent but no user is signed in.",
                )
            if (interactive and params.get("prompt") != "none") or not hint:
                return self._sign_in_page(request, params)
            if decision == "cancel":
                raise IdentityError(
                    "access_denied", 65004, "User declined to consent to access the app."
                )
            return self._sign_in(request, tenant, params, hint, graph, oidc)
        except IdentityError as exc:
            return redirect(
                uri,
                {
                    "error": exc.error,
                    "error_description": exc.description,
                    "error_subcode": "cancel" if exc.code == 65004 else None,
                    "state": state_param,
                },
            )

    def _sign_in(
        self,
        request: Request,
        tenant: str,
        params: dict[str, str],
        hint: str,
        graph: list[str],
        oidc: list[str],
    ) -> Response:
        user = self.state.user_by_upn(hint)
        if user is None or not consent.tenant_matches(self.state, tenant, user):
            raise IdentityError(
                "invalid_request",
                50034,
                f"The user account {hint} does not exist in the '{tenant}' directory.",
            )
        client_id = params["client_id"]
        verdict = consent.evaluate(self.state, user, client_id, graph)
        if verdict is Consent.ADMIN_REQUIRED:
            raise consent.admin_required_error(client_id)
        if verdict is Consent.USER_MAY_CONSENT:
            if params.get("prompt") == "none":
                raise IdentityError(
                    "consent_required", 65001, "The user has not consented to use the application."
                )
            consent.grant_user(user, client_id, graph)
            mark_page(request.scope, "consent")  # the user was asked (auto-approve: accepted)
        code = secrets.token_urlsafe(32)
        self.state.codes[code] = AuthCode(
            code,
            client_id,
            params["redirect_uri"],
            user.oid,
            graph + oidc,
            params["code_challenge"],
            params.get("nonce"),
            self.state.clock.now() + tokens.CODE_LIFETIME,
        )
        return redirect(
            params["redirect_uri"],
            {"code": code, "state": params.get("state"), "session_state": str(uuid.uuid4())},
        )

    def _sign_in_page(
        self, request: Request, params: dict[str, str], title: str = "Sign in to your account"
    ) -> HTMLResponse:
        mark_page(request.scope, "consent" if "adminconsent" in request.url.path else "sign_in")
        return sign_in_page(request, params, [u.upn for u in self.state.users.values()], title)

    # -- admin consent -------------------------------------------------------------------

    async def admin_consent(self, request: Request) -> Response:
        tenant_key = request.path_params["tenant"]
        params = await self._params(request)
        try:
            self._client_and_redirect(tenant_key, params)
            if tenant_key.lower() in ("common", "consumers"):
                raise IdentityError(
                    "invalid_request",
                    90009,
                    "Admin consent needs a tenant: use the tenant id, its "
                    "domain, or 'organizations'.",
                )
        except IdentityError as exc:
            return error_page(exc)
        uri, state_param = params["redirect_uri"], params.get("state")
        hint = params.get("login_hint") or params.get("username")
        if (request.method == "GET" and not self.state.auto_approve) or not hint:
            return self._sign_in_page(request, params, "Permissions requested")
        user = self.state.user_by_upn(hint)
        try:
            if params.get("decision") == "cancel":
                raise IdentityError(
                    "access_denied", 65004, "The admin declined to consent to access the app."
                )
            if user is None or not consent.tenant_matches(self.state, tenant_key, user):
                raise IdentityError(
                    "access_denied",
                    50034,
                    f"The user account {hint} does not exist in this directory.",
                )
            if not user.is_admin:
                raise IdentityError(
                    "access_denied",
                    90093,
                    f"{hint} does not have permission to consent on behalf of "
                    "the organization. Only an administrator can grant admin "
                    "consent.",
                )
        except IdentityError as exc:
            return redirect(
                uri,
                {"error": exc.error, "error_description": exc.description, "state": state_param},
            )
        scope = params.get("scope")
        graph = None
        if scope and ".default" not in scope:
            graph = consent.parse_scopes(scope)[0]
        tenant = self.state.tenants[user.tenant_id]
        consent.grant_admin(tenant, params["client_id"], graph)
        return redirect(
            uri,
            {"admin_consent": "True", "tenant": tenant.id, "state": state_param, "scope": scope},
        )

    # -- token ---------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        base = base_url(request.scope)
        tenant = request.path_params["tenant"]
        try:
            if request.headers.get("content-type", "").split(";")[0].strip() != (
                "application/x-www-form-urlencoded"
            ):
                raise IdentityError(
                    "invalid_request",
                    900144,
                    "The request body must be application/x-www-form-urlencoded.",
                )
            form = {k: str(v) for k, v in (await request.form()).items()}
            client_id, secret = form.get("client_id"), form.get("client_secret")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("basic "):
                decoded = base64.b64decode(auth[6:]).decode()
                raw_id, _, raw_secret = decoded.partition(":")
                client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if not consent.known_tenant(self.state, tenant):
                raise IdentityError("invalid_request", 90002, f"Tenant '{tenant}' not found.")
            app = tokens.authenticate_client(self.state, client_id, secret)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                user, scopes, nonce = tokens.redeem_code(
                    self.state,
                    app,
                    form.get("code"),
                    form.get("redirect_uri"),
                    form.get("code_verifier"),
                    tenant,
                )
                graph = [s for s in scopes if s not in consent.OIDC]
                oidc = [s for s in scopes if s in consent.OIDC]
                body = tokens.issue(
                    self.state, self.keys, base, user, app.client_id, graph, oidc, nonce
                )
            elif grant_type == "refresh_token":
                user, graph = tokens.use_refresh_token(
                    self.state, app, form.get("refresh_token"), form.get("scope")
                )
                oidc = (
                    consent.parse_scopes(form["scope"])[1]
                    if form.get("scope")
                    else ["openid", "profile"]
                )
                body = tokens.issue(
                    self.state,
                    self.keys,
                    base,
                    user,
                    app.client_id,
                    graph,
                    sorted({*oidc, "offline_access"}),
                )
            else:
                raise IdentityError(
                    "unsupported_grant_type",
                    70003,
                    f"The app requested an unsupported grant type '{grant_type}'.",
                )
        except IdentityError as exc:
            return error_json(exc, base)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # -- discovery -----------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        key = request.path_params["tenant"]
        base = base_url(request.scope)
        tenant = self.state.tenant_for(key)
        if tenant is None and key.lower() not in ("common", "organizations", "consumers"):
            return error_json(
                IdentityError("invalid_tenant", 90002, f"Tenant '{key}' not found."), base
            )
        tid = tenant.id if tenant else "{tenantid}"
        path = tenant.id if tenant else key
        return JSONResponse(
            {
                "issuer": f"{base}{tid}/v2.0",
                "authorization_endpoint": f"{base}{path}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}{path}/oauth2/v2.0/token",
                "jwks_uri": f"{base}{path}/discovery/v2.0/keys",
                "end_session_endpoint": f"{base}{path}/oauth2/v2.0/logout",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nonce",
                    "name",
                    "tid",
                    "oid",
                    "preferred_username",
                    "email",
                    "ver",
                ],
                "tenant_region_scope": "EU",
                "request_uri_parameter_supported": False,
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self.keys.jwks())
