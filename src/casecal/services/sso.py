"""SSO sign-in, the use cases: a firm admin configures the firm's identity provider (audited,
the client secret encrypted); an email's domain leads to its firm's provider; the answer is
checked and matched to a user of that firm (bound identity first, then verified email), or one
is provisioned when the firm allows it; a firm that requires SSO refuses local passwords except
for its break-glass admin."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth import sso as protocol
from casecal.auth.encryption import TokenCipher
from casecal.auth.sso import Idp, SignInClaims, SsoRefused
from casecal.config import Settings
from casecal.domain.sso import (
    InvalidSsoSetting,
    SsoKind,
    check_issuer,
    domain_of,
    parse_domains,
    parse_tenants,
    password_allowed,
    team_for_groups,
)
from casecal.errors import DomainError
from casecal.services.access import Actor, require_admin
from casecal.services.audit import record
from casecal.services.connect import resolve_tenant
from casecal.store.sso_tables import SsoConfig, SsoDomain, SsoIdentity
from casecal.store.tables import Role, Team, User, utcnow


class SsoSettingRejected(DomainError):
    status_code = 422
    title = "Single sign-on not saved"


@dataclass(frozen=True)
class SsoInput:
    """The admin's form, as typed."""

    kind: str
    client_id: str
    client_secret: str = ""
    """Empty keeps the stored secret."""
    issuer: str = ""
    tenants: str = ""
    domains: str = ""
    enabled: bool = False
    allow_provisioning: bool = False
    group_claim: str = ""
    require_sso: bool = False
    break_glass_email: str = ""


@dataclass(frozen=True)
class SsoView:
    """The firm's configuration as the admin page shows it (never the secret)."""

    kind: str = SsoKind.OIDC.value
    client_id: str = ""
    has_secret: bool = False
    issuer: str = ""
    tenants: str = ""
    domains: str = ""
    enabled: bool = False
    allow_provisioning: bool = False
    group_claim: str = ""
    require_sso: bool = False
    break_glass_email: str = ""
    configured: bool = False


async def _domains(session: AsyncSession, firm_id: uuid.UUID) -> tuple[str, ...]:
    rows = await session.scalars(
        select(SsoDomain.domain).where(SsoDomain.firm_id == firm_id).order_by(SsoDomain.domain)
    )
    return tuple(rows.all())


async def read_config(session: AsyncSession, actor: Actor) -> SsoView:
    require_admin(actor, "manage single sign-on")
    config = await session.get(SsoConfig, actor.firm_id)
    if config is None:
        return SsoView()
    break_glass = ""
    if config.break_glass_user_id is not None:
        user = await session.get(User, config.break_glass_user_id)
        break_glass = user.email if user is not None and user.firm_id == actor.firm_id else ""
    return SsoView(
        kind=config.kind,
        client_id=config.client_id,
        has_secret=bool(config.client_secret_enc),
        issuer=config.issuer,
        tenants="\n".join(config.tenant_ids),
        domains="\n".join(await _domains(session, actor.firm_id)),
        enabled=config.enabled,
        allow_provisioning=config.allow_provisioning,
        group_claim=config.group_claim,
        require_sso=config.require_sso,
        break_glass_email=break_glass,
        configured=True,
    )


async def _break_glass(session: AsyncSession, actor: Actor, email: str) -> uuid.UUID | None:
    address = email.strip().lower()
    if not address:
        return None
    user = await session.scalar(
        select(User).where(User.firm_id == actor.firm_id, User.email == address)
    )
    if user is None or not user.is_active or user.role is not Role.FIRM_ADMIN:
        raise SsoSettingRejected(f"{address} is not an active firm admin of this firm.")
    return user.id


async def save_config(
    session: AsyncSession, settings: Settings, actor: Actor, given: SsoInput
) -> None:
    """Check and store the firm's identity provider; audited as ``sso.configured``."""
    require_admin(actor, "manage single sign-on")
    try:
        kind = SsoKind(given.kind)
    except ValueError:
        raise SsoSettingRejected("Choose the kind of identity provider.") from None
    if kind is SsoKind.SAML:  # its own form: casecal.services.saml.save_saml_config
        raise SsoSettingRejected("Set up SAML with the SAML form below.")
    try:
        domains = parse_domains(given.domains)
        tenants = parse_tenants(given.tenants) if kind is SsoKind.ENTRA else ()
        issuer = check_issuer(given.issuer) if kind is SsoKind.OIDC else ""
    except InvalidSsoSetting as exc:
        raise SsoSettingRejected(str(exc)[:1].upper() + str(exc)[1:] + ".") from exc
    config = await session.get(SsoConfig, actor.firm_id)
    if not given.client_id.strip():
        raise SsoSettingRejected("Enter the client id registered at the identity provider.")
    if not given.client_secret and (config is None or not config.client_secret_enc):
        raise SsoSettingRejected("Enter the client secret registered at the identity provider.")
    if not domains:
        raise SsoSettingRejected("List at least one email domain of the firm.")
    if kind is SsoKind.ENTRA and not tenants:
        raise SsoSettingRejected("List the Entra ID tenant id(s) of the firm.")
    break_glass = await _break_glass(session, actor, given.break_glass_email)
    if given.require_sso and break_glass is None:
        raise SsoSettingRejected(
            "To require single sign-on, name a break-glass admin who can still sign in with a "
            "password if the identity provider is down."
        )
    if given.require_sso and not given.enabled:
        raise SsoSettingRejected("Single sign-on must be on to be required.")
    taken = await session.scalars(
        select(SsoDomain.domain).where(
            SsoDomain.domain.in_(domains), SsoDomain.firm_id != actor.firm_id
        )
    )
    clash = sorted(taken.all())
    if clash:
        raise SsoSettingRejected(f"{', '.join(clash)} already leads to another firm's sign-in.")
    if config is None:
        config = SsoConfig(firm_id=actor.firm_id)
        session.add(config)
    config.kind = kind.value
    config.issuer = issuer
    config.client_id = given.client_id.strip()
    if given.client_secret:
        config.client_secret_enc = TokenCipher.from_settings(settings).encrypt(given.client_secret)
    config.tenant_ids = list(tenants)
    config.enabled = given.enabled
    config.allow_provisioning = given.allow_provisioning
    config.group_claim = given.group_claim.strip()[:100]
    config.require_sso = given.require_sso
    config.break_glass_user_id = break_glass
    config.updated_by = actor.user_id
    config.updated_at = utcnow()
    await session.execute(delete(SsoDomain).where(SsoDomain.firm_id == actor.firm_id))
    session.add_all([SsoDomain(domain=d, firm_id=actor.firm_id) for d in domains])
    details: dict[str, object] = {
        "kind": kind.value,
        "enabled": given.enabled,
        "domains": list(domains),
        "tenants": list(tenants),
        "issuer": issuer,
        "allow_provisioning": given.allow_provisioning,
        "group_claim": config.group_claim,
        "require_sso": given.require_sso,
        "break_glass": given.break_glass_email.strip().lower(),
        "secret_changed": bool(given.client_secret),
    }
    record(session, actor.firm_id, actor.user_id, "sso.configured", "sso", details)
    await session.commit()


def idp_of(settings: Settings, config: SsoConfig, domains: tuple[str, ...]) -> Idp:
    kind = SsoKind(config.kind)
    tenants = tuple(config.tenant_ids)
    secret = (
        TokenCipher.from_settings(settings).decrypt(config.client_secret_enc)
        if config.client_secret_enc
        else ""
    )
    return Idp(
        kind=kind,
        discovery_url=protocol.idp_discovery_url(
            settings, kind, issuer=config.issuer, tenant_ids=tenants
        ),
        client_id=config.client_id,
        client_secret=secret,
        issuer=config.issuer,
        tenant_ids=tenants,
        domains=domains,
        group_claim=config.group_claim,
    )


async def config_for_email(session: AsyncSession, email: str) -> SsoConfig | None:
    """The enabled SSO configuration the email's domain leads to, if any."""
    domain = domain_of(email)
    if not domain:
        return None
    row = await session.get(SsoDomain, domain)
    config = await session.get(SsoConfig, row.firm_id) if row is not None else None
    return config if config is not None and config.enabled else None


async def domain_requires_sso(session: AsyncSession, email: str) -> bool:
    """Whether the email's domain leads to a firm that requires SSO: what the sign-in page may
    say of an address without telling whether an account of it exists."""
    config = await config_for_email(session, email)
    return config is not None and config.require_sso


async def start_sign_in(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    config: SsoConfig,
    *,
    email: str,
    binding: str,
    next_url: str,
) -> str:
    """A new single-use request and the provider's authorize URL."""
    idp = idp_of(settings, config, await _domains(session, config.firm_id))
    endpoints = await protocol.provider_endpoints(http, idp)
    request = await protocol.create_request(session, config.firm_id, binding, next_url)
    await session.commit()
    return protocol.authorization_url(
        idp,
        endpoints.authorize,
        settings,
        state=request.state,
        code_verifier=request.code_verifier,
        nonce=request.nonce,
        login_hint=email,
    )


@dataclass(frozen=True)
class SignedInBySso:
    user_id: uuid.UUID
    next_url: str
    provisioned: bool
    firm_id: uuid.UUID


async def complete_sign_in(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    params: Mapping[str, str],
    *,
    binding: str,
) -> SignedInBySso:
    """The provider's answer: the request used up, the code exchanged, the id_token checked,
    the user found or provisioned. A refusal is audited for the firm and signs no one in."""
    try:
        request = await protocol.consume_request(session, params.get("state", ""), binding)
    except SsoRefused as exc:
        if exc.firm_id is not None:
            await _refusal_recorded(session, exc.firm_id, exc)
        raise
    firm_id, next_url = request.firm_id, request.next_url
    try:
        user, provisioned = await _signed_in_user(
            session, http, settings, firm_id, params,
            verifier=request.code_verifier, nonce=request.nonce,
        )  # fmt: skip
    except SsoRefused as exc:
        await _refusal_recorded(session, firm_id, exc)
        raise
    record(
        session, user.firm_id, user.id, "sso.signed_in", f"user:{user.id}",
        {"provisioned": provisioned},
    )  # fmt: skip
    await session.commit()
    return SignedInBySso(user.id, next_url, provisioned, user.firm_id)


async def _refusal_recorded(session: AsyncSession, firm_id: uuid.UUID, exc: SsoRefused) -> None:
    """A refused sign-in in the firm's audit log (nothing else of the attempt is kept)."""
    await session.rollback()
    record(session, firm_id, None, "sso.refused", "sso", {"reason": exc.reason})
    await session.commit()


async def _signed_in_user(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    firm_id: uuid.UUID,
    params: Mapping[str, str],
    *,
    verifier: str,
    nonce: str,
) -> tuple[User, bool]:
    config = await session.get(SsoConfig, firm_id)
    if config is None or not config.enabled:
        raise SsoRefused("disabled", "Your firm has turned single sign-on off." + protocol.AGAIN)
    if params.get("error"):
        why = params.get("error_description") or params["error"]
        raise SsoRefused("provider_error", f"Your firm's identity provider did not sign you in: "
                         f"{why.strip().splitlines()[0][:300]}." + protocol.AGAIN)  # fmt: skip
    idp = idp_of(settings, config, await _domains(session, firm_id))
    endpoints = await protocol.provider_endpoints(http, idp)
    token = await protocol.exchange_code(
        http, settings, idp, endpoints, code=params.get("code", ""), code_verifier=verifier
    )
    claims = await protocol.verified_claims(http, idp, str(token.get("id_token", "")), nonce)
    claims = await _with_verified_domain(http, settings, claims)
    return await _match(session, config, idp, claims)


async def _with_verified_domain(
    http: httpx.AsyncClient, settings: Settings, claims: SignInClaims
) -> SignInClaims:
    """An Entra ``email`` without ``xms_edov`` counts when the token's tenant verified its
    domain (as for connecting a calendar: the domain's discovery document names the tenant)."""
    if not claims.domain_to_check or not claims.tenant_id:
        return claims
    if await resolve_tenant(http, settings, claims.domain_to_check) != claims.tenant_id:
        return claims
    return replace(claims, email_verified=True, domain_to_check="")


async def _match(
    session: AsyncSession, config: SsoConfig, idp: Idp, claims: SignInClaims
) -> tuple[User, bool]:
    firm_id = config.firm_id
    bound = await session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.firm_id == firm_id,
            SsoIdentity.issuer == claims.issuer,
            SsoIdentity.subject == claims.subject,
        )
    )
    if bound is not None:
        user = await session.get(User, bound.user_id)
        if user is None or user.firm_id != firm_id or not user.is_active:
            raise SsoRefused("inactive", "Your CaseCal account is not active. Ask your firm admin.")
        return user, False
    if not claims.email_verified or not claims.email:
        raise SsoRefused(
            "unverified_email",
            f"Your identity provider did not confirm the address {claims.email or '(none)'} as "
            "verified, so CaseCal cannot tell which account is yours." + protocol.AGAIN,
        )
    user = await session.scalar(
        select(User).where(User.firm_id == firm_id, User.email == claims.email)
    )
    provisioned = False
    if user is None:
        user = await _provision(session, config, idp, claims)
        provisioned = True
    elif not user.is_active:
        raise SsoRefused("inactive", "Your CaseCal account is not active. Ask your firm admin.")
    else:
        other = await session.scalar(
            select(SsoIdentity.id).where(
                SsoIdentity.firm_id == firm_id,
                SsoIdentity.user_id == user.id,
                SsoIdentity.issuer == claims.issuer,
            )
        )
        if other is not None:
            raise SsoRefused(
                "identity_mismatch",
                f"{claims.email} is bound to another account at your identity provider. Ask "
                "your firm admin." + protocol.AGAIN,
            )
    session.add(
        SsoIdentity(firm_id=firm_id, user_id=user.id, issuer=claims.issuer,
                    subject=claims.subject)
    )  # fmt: skip
    await session.flush()
    return user, provisioned


async def _provision(
    session: AsyncSession, config: SsoConfig, idp: Idp, claims: SignInClaims
) -> User:
    if not config.allow_provisioning:
        raise SsoRefused(
            "no_account",
            f"There is no CaseCal account for {claims.email} at your firm, and your firm does "
            "not create accounts at sign-in. Ask your firm admin to add you.",
        )
    if domain_of(claims.email) not in idp.domains:
        raise SsoRefused(
            "foreign_domain",
            f"{claims.email} is not at one of your firm's email domains, so CaseCal does not "
            "create an account for it. Ask your firm admin to add you.",
        )
    teams = await session.execute(select(Team.name, Team.id).where(Team.firm_id == config.firm_id))
    team_id = team_for_groups(claims.groups, {row.name: row.id for row in teams})
    user = User(
        firm_id=config.firm_id,
        email=claims.email,
        name=(claims.name or claims.email.split("@")[0])[:200],
        role=Role.CASE_MANAGER,
        team_id=team_id,
        password_hash=None,
    )
    session.add(user)
    await session.flush()
    record(
        session, config.firm_id, user.id, "sso.user_provisioned", f"user:{user.id}",
        {"email": user.email, "team_id": str(team_id) if team_id else None},
    )  # fmt: skip
    return user


async def password_refused(
    session: AsyncSession, accounts: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> set[uuid.UUID]:
    """Of (user id, firm id) pairs, the users whose firm requires SSO and who are not its
    break-glass admin: their local password is not accepted."""
    firm_ids = {firm_id for _, firm_id in accounts}
    if not firm_ids:
        return set()
    rows = await session.execute(
        select(SsoConfig.firm_id, SsoConfig.break_glass_user_id).where(
            SsoConfig.firm_id.in_(firm_ids), SsoConfig.require_sso.is_(True),
            SsoConfig.enabled.is_(True),
        )
    )  # fmt: skip
    requiring = {row.firm_id: row.break_glass_user_id for row in rows}
    return {
        user_id
        for user_id, firm_id in accounts
        if firm_id in requiring
        and not password_allowed(require_sso=True, is_break_glass=requiring[firm_id] == user_id)
    }
