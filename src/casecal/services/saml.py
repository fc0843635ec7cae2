"""SAML sign-in, the use cases: a firm admin configures the firm's SAML identity provider
(its metadata by URL or pasted XML; audited); an email domain of a SAML firm leads to its IdP;
the IdP's answer is checked (``auth.saml``), used once, and matched to a user of that firm or
one is provisioned, with the same rules as OpenID Connect sign-in (``services.sso``). The
firm-wide switches (on, provisioning, require-SSO, break-glass) and the domains are the
firm's SSO configuration of kind ``saml``."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth import saml as protocol
from casecal.auth.sso import AGAIN, Idp, SignInClaims, SsoRefused
from casecal.config import Settings
from casecal.domain.saml import (
    MAX_METADATA_BYTES,
    check_metadata_url,
    display_name,
    domain_listed,
    email_of,
    group_names,
)
from casecal.domain.sso import InvalidSsoSetting, SsoKind, parse_domains
from casecal.services.access import Actor, require_admin
from casecal.services.audit import record
from casecal.services.sso import (
    SignedInBySso,
    SsoSettingRejected,
    _break_glass,
    _domains,
    _match,
    _refusal_recorded,
)
from casecal.store.saml_tables import SamlConfig
from casecal.store.sso_tables import SsoConfig, SsoDomain, SsoRequest
from casecal.store.tables import Firm, User, utcnow


@dataclass(frozen=True)
class SamlInput:
    """The admin's form for a SAML identity provider, as typed."""

    metadata_url: str = ""
    metadata_xml: str = ""
    email_attribute: str = ""
    domains: str = ""
    enabled: bool = False
    allow_provisioning: bool = False
    group_attribute: str = ""
    require_sso: bool = False
    break_glass_email: str = ""


@dataclass(frozen=True)
class SamlView:
    """What the page shows: CaseCal's side (to give the IdP) and the stored IdP."""

    sp_entity_id: str
    acs_url: str
    metadata_url_of_sp: str
    idp_entity_id: str = ""
    metadata_url: str = ""
    metadata_xml: str = ""
    email_attribute: str = ""


def _sp(settings: Settings, firm_id: uuid.UUID) -> protocol.ServiceProvider:
    return protocol.service_provider(settings, firm_id)


async def read_saml(session: AsyncSession, settings: Settings, actor: Actor) -> SamlView:
    require_admin(actor, "manage single sign-on")
    sp = _sp(settings, actor.firm_id)
    row = await session.get(SamlConfig, actor.firm_id)
    view = SamlView(sp_entity_id=sp.entity_id, acs_url=sp.acs_url, metadata_url_of_sp=sp.entity_id)
    if row is None:
        return view
    return SamlView(
        sp_entity_id=sp.entity_id,
        acs_url=sp.acs_url,
        metadata_url_of_sp=sp.entity_id,
        idp_entity_id=row.idp_entity_id,
        metadata_url=row.metadata_url,
        metadata_xml=row.metadata_xml,
        email_attribute=row.email_attribute,
    )


async def sp_metadata(session: AsyncSession, settings: Settings, firm_id: uuid.UUID) -> str | None:
    """CaseCal's SP metadata for the firm (None for no such firm)."""
    if await session.get(Firm, firm_id) is None:
        return None
    return await asyncio.to_thread(protocol.sp_metadata, _sp(settings, firm_id))


async def _fetch_metadata(http: httpx.AsyncClient, url: str) -> str:
    try:
        async with http.stream("GET", url, timeout=10, follow_redirects=False) as response:
            if response.status_code != 200:
                raise SsoSettingRejected(
                    f"The metadata URL answered HTTP {response.status_code}; paste the XML instead."
                )
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_METADATA_BYTES:
                    raise SsoSettingRejected("The metadata at that URL is too large.")
    except httpx.HTTPError as exc:
        raise SsoSettingRejected(
            f"The metadata URL could not be read ({type(exc).__name__}); paste the XML instead."
        ) from None
    return body.decode("utf-8", errors="replace")


async def save_saml_config(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    actor: Actor,
    given: SamlInput,
) -> None:
    """Check and store the firm's SAML IdP (the metadata is read now, from the URL when one is
    given, and kept); audited as ``sso.configured`` with kind ``saml``."""
    require_admin(actor, "manage single sign-on")
    try:
        domains = parse_domains(given.domains)
        url = check_metadata_url(given.metadata_url) if given.metadata_url.strip() else ""
    except (InvalidSsoSetting, ValueError) as exc:
        raise SsoSettingRejected(str(exc)[:1].upper() + str(exc)[1:] + ".") from exc
    if not domains:
        raise SsoSettingRejected("List at least one email domain of the firm.")
    xml = await _fetch_metadata(http, url) if url else given.metadata_xml.strip()
    if len(xml.encode()) > MAX_METADATA_BYTES:
        raise SsoSettingRejected("The metadata is too large.")
    sp = _sp(settings, actor.firm_id)
    try:
        idp = await asyncio.to_thread(protocol.read_idp_metadata, sp, xml)
    except protocol.SamlMetadataInvalid as exc:
        raise SsoSettingRejected(f"The identity provider metadata: {exc}.") from None
    except SsoRefused as exc:
        raise SsoSettingRejected(exc.detail) from None
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
    config = await session.get(SsoConfig, actor.firm_id)
    if config is None:
        config = SsoConfig(firm_id=actor.firm_id, client_id="")
        session.add(config)
    config.kind = SsoKind.SAML.value
    config.issuer = idp.entity_id[:500]
    config.tenant_ids = []
    config.enabled = given.enabled
    config.allow_provisioning = given.allow_provisioning
    config.group_claim = given.group_attribute.strip()[:100]
    config.require_sso = given.require_sso
    config.break_glass_user_id = break_glass
    config.updated_by = actor.user_id
    config.updated_at = utcnow()
    row = await session.get(SamlConfig, actor.firm_id)
    if row is None:
        row = SamlConfig(firm_id=actor.firm_id)
        session.add(row)
    row.idp_entity_id = idp.entity_id[:500]
    row.metadata_url = url
    row.metadata_xml = xml
    row.email_attribute = given.email_attribute.strip()[:200]
    row.updated_at = utcnow()
    # OpenID Connect sign-ins still in flight end here: the firm no longer signs in that way.
    await session.execute(delete(SsoRequest).where(SsoRequest.firm_id == actor.firm_id))
    await session.execute(delete(SsoDomain).where(SsoDomain.firm_id == actor.firm_id))
    session.add_all([SsoDomain(domain=d, firm_id=actor.firm_id) for d in domains])
    details: dict[str, object] = {
        "kind": SsoKind.SAML.value,
        "enabled": given.enabled,
        "domains": list(domains),
        "idp_entity_id": idp.entity_id,
        "metadata_url": url,
        "email_attribute": row.email_attribute,
        "allow_provisioning": given.allow_provisioning,
        "group_claim": config.group_claim,
        "require_sso": given.require_sso,
        "break_glass": given.break_glass_email.strip().lower(),
    }
    record(session, actor.firm_id, actor.user_id, "sso.configured", "sso", details)
    await session.commit()


async def start_saml_sign_in(
    session: AsyncSession,
    settings: Settings,
    config: SsoConfig,
    *,
    binding: str,
    next_url: str,
) -> str:
    """A new AuthnRequest remembered for this browser, and the IdP URL to send it to."""
    row = await session.get(SamlConfig, config.firm_id)
    if row is None:
        raise SsoRefused("saml_not_configured", "Your firm's SAML sign-in is not set up yet.")
    sp = _sp(settings, config.firm_id)
    request_id, url = await asyncio.to_thread(
        protocol.authn_request, sp, row.metadata_xml, row.idp_entity_id
    )
    await protocol.create_request(session, config.firm_id, request_id, binding, next_url)
    await session.commit()
    return url


async def complete_saml_sign_in(
    session: AsyncSession,
    settings: Settings,
    firm_id: uuid.UUID,
    saml_response: str,
    *,
    binding: str,
) -> SignedInBySso:
    """The IdP's answer at the firm's ACS: checked, its request and assertion used up, the user
    found or provisioned. A refusal to a browser that has a sign-in of this firm in flight is
    audited for the firm; nothing signs in."""
    in_flight = await protocol.outstanding(session, firm_id, binding)
    try:
        answer, config = await _checked(session, settings, firm_id, saml_response, in_flight)
        await protocol.consume_request(session, firm_id, answer.in_response_to, binding)
        await protocol.remember_assertion(session, firm_id, answer)
        user, provisioned = await _user_of(session, config, answer)
    except SsoRefused as exc:
        if in_flight:
            await _refusal_recorded(session, firm_id, exc)
        raise
    record(
        session, user.firm_id, user.id, "sso.signed_in", f"user:{user.id}",
        {"provisioned": provisioned, "kind": SsoKind.SAML.value},
    )  # fmt: skip
    await session.commit()
    return SignedInBySso(user.id, in_flight[answer.in_response_to], provisioned, user.firm_id)


async def _checked(
    session: AsyncSession,
    settings: Settings,
    firm_id: uuid.UUID,
    saml_response: str,
    in_flight: dict[str, str],
) -> tuple[protocol.SamlAnswer, SsoConfig]:
    config = await session.get(SsoConfig, firm_id)
    row = await session.get(SamlConfig, firm_id)
    if config is None or row is None or config.kind != SsoKind.SAML.value or not config.enabled:
        raise SsoRefused("disabled", "Your firm does not sign in with SAML." + AGAIN)
    answer = await asyncio.to_thread(
        protocol.read_response,
        _sp(settings, firm_id),
        row.metadata_xml,
        row.idp_entity_id,
        saml_response,
        in_flight,
    )
    return answer, config


async def _user_of(
    session: AsyncSession, config: SsoConfig, answer: protocol.SamlAnswer
) -> tuple[User, bool]:
    saml = await session.get(SamlConfig, config.firm_id)
    email = email_of(
        answer.name_id, answer.name_id_format, answer.attributes,
        saml.email_attribute if saml is not None else "",
    )  # fmt: skip
    if not email:
        raise SsoRefused(
            "saml_no_email",
            "Your identity provider sent no email address (a NameID in email format or an "
            "email attribute). Ask your firm admin." + AGAIN,
        )
    domains = await _domains(session, config.firm_id)
    if not domain_listed(email, domains):
        raise SsoRefused(
            "foreign_domain",
            f"{email} is not at one of your firm's email domains, so it does not sign in to "
            "CaseCal through your firm's identity provider. Ask your firm admin." + AGAIN,
        )
    idp = Idp(
        kind=SsoKind.SAML, discovery_url="", client_id="", client_secret="",
        issuer=answer.issuer, domains=domains, group_claim=config.group_claim,
    )  # fmt: skip
    claims = SignInClaims(
        issuer=f"saml:{answer.issuer}",
        subject=protocol.subject_of(answer, email)[:255],
        email=email,
        email_verified=True,
        name=display_name(answer.attributes, email),
        groups=tuple(group_names(answer.attributes, config.group_claim)),
    )
    return await _match(session, config, idp, claims)
