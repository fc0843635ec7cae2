"""``MicrosoftEmulator``: builds the ASGI app (identity platform, Graph, admin surface, calendar
view) over one state, and offers the Python API that tests, scripts and the demo use."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from casecal.emulators.faults import FaultInjector, FaultMiddleware
from casecal.emulators.keys import SigningKey
from casecal.emulators.microsoft import consent, delta, graph_events, mutations, subscriptions
from casecal.emulators.microsoft.consent import Consent, IdentityError
from casecal.emulators.microsoft.control import control_routes
from casecal.emulators.microsoft.errors import render_graph_error
from casecal.emulators.microsoft.graph import GraphRouter
from casecal.emulators.microsoft.http import GraphEndpoint, RoutePathMiddleware
from casecal.emulators.microsoft.identity import Identity
from casecal.emulators.microsoft.instances import Instance
from casecal.emulators.microsoft.meetings import SentMessage
from casecal.emulators.microsoft.notifier import Delivery, Notifier
from casecal.emulators.microsoft.render import View, render
from casecal.emulators.microsoft.state import (
    AccessToken,
    AppRegistration,
    IdFactory,
    MicrosoftState,
    RefreshToken,
    StoredEvent,
    Tenant,
    User,
)
from casecal.emulators.microsoft.throttle import Budget, Throttle, ThrottleMiddleware
from casecal.emulators.microsoft.tokens import issue
from casecal.emulators.microsoft.urls import base_url
from casecal.emulators.microsoft.view import view_routes
from casecal.emulators.requestlog import RequestLog, RequestLogMiddleware


class MicrosoftEmulator:
    """A stateful Microsoft Graph + Microsoft identity platform, as one ASGI app (``app``)."""

    def __init__(
        self, seed: int = 0, notifier_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.state = MicrosoftState(ids=IdFactory(seed))
        self.keys = SigningKey()
        self.faults = FaultInjector(seed)
        self.log = RequestLog()
        self.throttle = Throttle(self.state.clock)
        self.notifier = Notifier(self.state, notifier_transport)
        self.base_url = "http://testserver/"
        """Base used for id_token issuers minted by the Python API (``issue_tokens``)."""
        router = GraphRouter(self.state)
        delta.register(router, self.state)
        graph_events.register(router, self.state)
        subscriptions.register(router, self.state, self.notifier)
        endpoint = GraphEndpoint(router, self.throttle)
        routes = [
            *control_routes(self),
            *view_routes(self.state),
            Route(
                "/v1.0/{rest:path}",
                endpoint.handle,
                methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            ),
            Route(
                "/beta/{rest:path}",
                endpoint.handle,
                methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            ),
            *Identity(self.state, self.keys).routes(),
        ]
        inner: ASGIApp = Starlette(routes=routes)
        inner = FaultMiddleware(inner, self.faults, render_graph_error, self._account)
        inner = ThrottleMiddleware(inner, self.throttle, self._throttle_key)
        inner = RequestLogMiddleware(inner, self.log, self._account)
        self.app: ASGIApp = RoutePathMiddleware(self._remember_base(inner))

    def _remember_base(self, app: ASGIApp) -> ASGIApp:
        """Keep ``base_url`` equal to the address clients last used."""

        async def remember(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                self.base_url = base_url(scope)
            await app(scope, receive, send)

        return remember

    # -- request attribution -------------------------------------------------------------

    def _token(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                text = value.decode("latin-1")
                return text[7:].strip() if text.lower().startswith("bearer ") else None
        return None

    def _account(self, scope: Scope) -> str | None:
        token = self.state.access_tokens.get(self._token(scope) or "")
        return self.state.users[token.oid].upn if token else None

    def _throttle_key(self, scope: Scope) -> tuple[str, str] | None:
        token = self.state.access_tokens.get(self._token(scope) or "")
        return (token.client_id, token.oid) if token else None

    # -- directory -----------------------------------------------------------------------

    @property
    def auto_approve(self) -> bool:
        return self.state.auto_approve

    @auto_approve.setter
    def auto_approve(self, value: bool) -> None:
        self.state.auto_approve = value

    @property
    def allow_http_notification_urls(self) -> bool:
        return self.state.allow_http_notification_urls

    @allow_http_notification_urls.setter
    def allow_http_notification_urls(self, value: bool) -> None:
        self.state.allow_http_notification_urls = value

    def add_tenant(
        self,
        tenant_id: str | None = None,
        domain: str = "contoso.com",
        admin_consent_required: bool = False,
    ) -> str:
        if self.state.tenant_for(domain) is not None:
            raise ValueError(f"a tenant with domain {domain!r} exists already")
        tid = tenant_id or self.state.ids.guid()
        self.state.tenants[tid] = Tenant(tid, domain, admin_consent_required)
        return tid

    def set_consent_policy(self, tenant_id: str, admin_consent_required: bool) -> None:
        self._tenant(tenant_id).admin_consent_required = admin_consent_required

    def add_user(
        self,
        tenant_id: str,
        upn: str,
        name: str,
        is_admin: bool = False,
        mail: str | None = None,
        groups: list[str] | None = None,
    ) -> str:
        tenant = self._tenant(tenant_id)
        if self.state.user_by_upn(upn) is not None:
            raise ValueError(f"user {upn!r} exists already")
        oid = self.state.ids.guid()
        user = User(oid, tenant.id, upn, name, mail or upn, is_admin, groups=list(groups or []))
        self.state.users[oid] = user
        user.default_calendar_id = graph_events.add_calendar(self.state, oid, "Calendar", True)
        return oid

    def add_calendar(self, oid: str, name: str) -> str:
        return graph_events.add_calendar(self.state, self._user(oid).oid, name)

    def register_app(
        self, client_id: str, client_secret: str | None, redirect_uris: list[str]
    ) -> None:
        self.state.apps[client_id] = AppRegistration(client_id, client_secret, list(redirect_uris))

    def grant_admin_consent(self, tenant_id: str, client_id: str) -> None:
        consent.grant_admin(self._tenant(tenant_id), client_id, None)

    def withdraw_admin_consent(self, tenant_id: str, client_id: str) -> int:
        """The tenant's admin withdraws consent for an app (removes its permission grants, as
        deleting them from the enterprise application does): every grant of the tenant's users
        goes too, their live access tokens for the app stop working, and refreshing them fails
        with invalid_grant AADSTS65001 (consent_required). Returns the access tokens cut off."""
        tenant = self._tenant(tenant_id)
        tenant.admin_grants.pop(client_id, None)
        oids = {u.oid for u in self.state.users.values() if u.tenant_id == tenant.id}
        for oid in oids:
            self.state.users[oid].grants.pop(client_id, None)
        cut = 0
        for token in self.state.access_tokens.values():
            if token.oid in oids and token.client_id == client_id and not token.revoked:
                token.revoked = True
                cut += 1
        return cut

    def revoke_consent(self, upn_or_oid: str, client_id: str) -> None:
        """Withdraw a user's own consent and the tenant's admin consent for an app."""
        user = self._user(upn_or_oid)
        user.grants.pop(client_id, None)
        self.state.tenants[user.tenant_id].admin_grants.pop(client_id, None)

    # -- tokens --------------------------------------------------------------------------

    def issue_tokens(self, upn: str, client_id: str, scopes: list[str] | str) -> dict[str, Any]:
        """What a completed sign-in + code redemption returns. The reserved scopes openid,
        profile and offline_access are added as MSAL adds them. Raises IdentityError (90094)
        when the tenant requires an admin's consent that was not given."""
        user = self._user(upn)
        if client_id not in self.state.apps:
            raise IdentityError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found.",
            )
        text = scopes if isinstance(scopes, str) else " ".join(scopes)
        graph, oidc = consent.parse_scopes(text)
        verdict = consent.evaluate(self.state, user, client_id, graph)
        if verdict is Consent.ADMIN_REQUIRED:
            raise consent.admin_required_error(client_id)
        if verdict is Consent.USER_MAY_CONSENT:
            consent.grant_user(user, client_id, graph)
        oidc = sorted({*oidc, "openid", "profile", "offline_access"})
        return issue(self.state, self.keys, self.base_url, user, client_id, graph, oidc)

    def revoke(self, upn_or_token: str) -> int:
        """Revoke every token of a user (as an admin's "revoke sessions" does), or one refresh
        or access token. Refresh then fails with invalid_grant AADSTS50173."""
        user = self.state.user_for(upn_or_token)
        count = 0
        tokens: list[RefreshToken | AccessToken] = [
            *self.state.refresh_tokens.values(),
            *self.state.access_tokens.values(),
        ]
        for token in tokens:
            if (user is not None and token.oid == user.oid) or token.token == upn_or_token:
                token.revoked = True
                count += 1
        if count == 0 and user is None:
            raise ValueError(f"no user or token {upn_or_token!r}")
        return count

    def expire_refresh_tokens(self, upn_or_token: str, reason: str = "expired") -> int:
        """Force 'expired' (AADSTS70008) or 'inactive' (AADSTS700082) on refresh."""
        if reason not in ("expired", "inactive"):
            raise ValueError("reason is 'expired' or 'inactive'")
        user = self.state.user_for(upn_or_token)
        count = 0
        for token in self.state.refresh_tokens.values():
            if (user is not None and token.oid == user.oid) or token.token == upn_or_token:
                token.forced_error = reason
                count += 1
        return count

    # -- calendars and events ------------------------------------------------------------

    def expire_delta_tokens(self) -> int:
        return delta.expire_all(self.state)

    def events(self, oid: str, calendar_id: str | None = None) -> list[dict[str, Any]]:
        """Stored events (single instances and series masters) as Graph JSON in UTC, with
        every extended property."""
        user = self._user(oid)
        view = View(self.base_url, "v1.0")
        found = self.state.events_in(calendar_id or user.default_calendar_id)
        return [self._json(view, e) for e in found]

    def _json(self, view: View, event: StoredEvent) -> dict[str, Any]:
        view.expand_ids = list(event.extended)
        return render(self.state, view, Instance(None, None, event, event.start, event.end))

    def create_event_as_other(
        self, oid: str, body: dict[str, Any], calendar_id: str | None = None
    ) -> dict[str, Any]:
        """Create an event as another client (Outlook, a phone) would."""
        user = self._user(oid)
        event, _ = mutations.create(
            self.state, user.oid, calendar_id or user.default_calendar_id, body
        )
        return self._json(View(self.base_url, "v1.0"), event)

    def update_event_as_other(
        self, oid: str, event_id: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        target = mutations.resolve(self.state, self._user(oid).oid, event_id)
        mutations.update(self.state, target, patch, None)
        return self._json(View(self.base_url, "v1.0"), target.event)

    def delete_event_as_other(self, oid: str, event_id: str) -> None:
        mutations.delete(
            self.state, mutations.resolve(self.state, self._user(oid).oid, event_id), None
        )

    def sent_messages(self) -> list[SentMessage]:
        """The invitations, updates and cancellations Exchange would have mailed so far."""
        return list(self.state.sent_messages)

    def move_event(self, oid: str, event_id: str, calendar_id: str) -> dict[str, Any]:
        """Move to another calendar of the same user: the default id changes, the immutable
        id does not."""
        target = mutations.resolve(self.state, self._user(oid).oid, event_id)
        event = mutations.move(self.state, target.event, calendar_id)
        return self._json(View(self.base_url, "v1.0"), event)

    # -- push, throttling ----------------------------------------------------------------

    def send_lifecycle(self, subscription_id: str, event: str) -> None:
        """Send reauthorizationRequired, subscriptionRemoved or missed to the subscription's
        lifecycleNotificationUrl (subscriptionRemoved also deletes it)."""
        if event not in ("reauthorizationRequired", "subscriptionRemoved", "missed"):
            raise ValueError(f"unknown lifecycle event {event!r}")
        sub = self.state.subscriptions[subscription_id]
        self.notifier.lifecycle(sub, event)
        if event == "reauthorizationRequired":
            sub.needs_reauthorization = True
        if event == "subscriptionRemoved":
            del self.state.subscriptions[subscription_id]

    async def flush_notifications(self) -> list[Delivery]:
        return await self.notifier.flush()

    @property
    def deliveries(self) -> list[Delivery]:
        return self.notifier.sent

    def set_throttling(
        self,
        upn_or_oid: str,
        enabled: bool = True,
        concurrent: int = 4,
        per_window: int = 10_000,
        window_seconds: float = 600.0,
    ) -> None:
        oid = self._user(upn_or_oid).oid
        if enabled:
            self.throttle.enable(oid, Budget(concurrent, per_window, window_seconds))
        else:
            self.throttle.disable(oid)

    # -- lookups -------------------------------------------------------------------------

    def _tenant(self, key: str) -> Tenant:
        tenant = self.state.tenant_for(key)
        if tenant is None:
            raise KeyError(f"no tenant {key!r}")
        return tenant

    def _user(self, key: str) -> User:
        user = self.state.user_for(key)
        if user is None:
            raise KeyError(f"no user {key!r}")
        return user
