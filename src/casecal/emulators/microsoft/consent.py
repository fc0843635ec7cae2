"""Scopes and consent: normalising requested scopes, the per-tenant consent policy (users may
consent, or an admin must approve high-impact permissions), and the recorded grants."""

from __future__ import annotations

from enum import Enum

from casecal.emulators.microsoft.state import MicrosoftState, Tenant, User

GRAPH = "https://graph.microsoft.com/"
OIDC = {"openid", "profile", "email", "offline_access"}
LOW_IMPACT = {"user.read", *OIDC}
"""What users may still consent to on a tenant that requires admin approval."""
ALL_SCOPES = [
    "User.Read",
    "Calendars.ReadWrite",
    "Calendars.Read",
    "Contacts.Read",
    "MailboxSettings.Read",
]
"""What '.default' stands for: the app's configured Graph permissions."""
PERSONAL_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


class IdentityError(Exception):
    """A refusal of the identity platform: OAuth ``error``, the AADSTS code and its text."""

    def __init__(
        self, error: str, code: int, message: str, status: int = 400, suberror: str | None = None
    ) -> None:
        super().__init__(f"{error}: AADSTS{code}: {message}")
        self.error = error
        self.code = code
        self.message = message
        self.status = status
        self.suberror = suberror

    @property
    def description(self) -> str:
        return f"AADSTS{self.code}: {self.message}"


class Consent(Enum):
    GRANTED = "granted"
    USER_MAY_CONSENT = "user_may_consent"
    ADMIN_REQUIRED = "admin_required"


def parse_scopes(raw: str | None) -> tuple[list[str], list[str]]:
    """(Graph scopes as short names, OpenID scopes) from a space-separated scope string."""
    if not raw or not raw.strip():
        raise IdentityError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        )
    graph: list[str] = []
    oidc: list[str] = []
    for item in raw.split():
        if item.lower() in OIDC:
            oidc.append(item.lower())
            continue
        short = item[len(GRAPH) :] if item.lower().startswith(GRAPH) else item
        if "/" in short or ":" in short:
            raise IdentityError(
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not "
                f"valid. The scope {item} is not valid.",
            )
        if short.lower() == ".default":
            graph.extend(s for s in ALL_SCOPES if s not in graph)
        elif short.lower() not in {g.lower() for g in graph}:
            graph.append(short)
    return graph, oidc


def granted(tenant: Tenant, user: User, client_id: str) -> set[str]:
    return tenant.admin_grants.get(client_id, set()) | user.grants.get(client_id, set())


def missing(state: MicrosoftState, user: User, client_id: str, scopes: list[str]) -> list[str]:
    have = granted(state.tenants[user.tenant_id], user, client_id)
    if "*" in have:
        return []
    return [s for s in scopes if s.lower() not in have and s.lower() not in OIDC]


def evaluate(state: MicrosoftState, user: User, client_id: str, scopes: list[str]) -> Consent:
    needed = missing(state, user, client_id, scopes)
    if not needed:
        return Consent.GRANTED
    tenant = state.tenants[user.tenant_id]
    if (
        tenant.admin_consent_required
        and not user.is_admin
        and any(s.lower() not in LOW_IMPACT for s in needed)
    ):
        return Consent.ADMIN_REQUIRED
    return Consent.USER_MAY_CONSENT


def grant_user(user: User, client_id: str, scopes: list[str]) -> None:
    user.grants.setdefault(client_id, set()).update(s.lower() for s in scopes)


def grant_admin(tenant: Tenant, client_id: str, scopes: list[str] | None) -> None:
    """Admin consent for the whole tenant; None (or '.default') means every permission."""
    tenant.admin_grants.setdefault(client_id, set()).update(
        {"*"} if scopes is None else {s.lower() for s in scopes}
    )


def admin_required_error(client_id: str) -> IdentityError:
    return IdentityError(
        "consent_required",
        90094,
        f"The grant requires admin permission. Approval required: the application "
        f"'{client_id}' needs permissions that only an administrator of this organisation can "
        "grant. Ask an admin to grant permission to this app before you can use it.",
        suberror="consent_required",
    )


def consent_missing_error(client_id: str, scopes: list[str]) -> IdentityError:
    return IdentityError(
        "invalid_grant",
        65001,
        f"The user or administrator has not consented to use the application with ID "
        f"'{client_id}'. Send an interactive authorization request for this user and "
        f"resource. Missing: {' '.join(scopes)}.",
        suberror="consent_required",
    )


def tenant_matches(state: MicrosoftState, tenant_key: str, user: User) -> bool:
    """Whether a user of this tenant may sign in at the ``{tenant}`` path segment."""
    if tenant_key.lower() in ("common", "organizations"):
        return True
    tenant = state.tenant_for(tenant_key)
    return tenant is not None and tenant.id == user.tenant_id


def known_tenant(state: MicrosoftState, tenant_key: str) -> bool:
    return tenant_key.lower() in ("common", "organizations", "consumers") or (
        state.tenant_for(tenant_key) is not None
    )
