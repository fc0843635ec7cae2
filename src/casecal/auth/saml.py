"""SAML 2.0 sign-in, the protocol half (pysaml2, which verifies signatures with the
``xmlsec1`` program and parses XML with defusedxml): CaseCal's service-provider metadata, the
AuthnRequest (HTTP-Redirect binding), the single-use browser-bound requests, and the IdP's
response (HTTP-POST binding) checked: a signed assertion by a key of the IdP's metadata (never
a key the message carries), Destination and Recipient = our ACS URL, Audience = our entity id,
NotBefore / NotOnOrAfter (``CLOCK_SKEW`` either way), InResponseTo = a request this browser
has in flight, exactly one assertion, SHA-256 or stronger; each assertion is accepted once."""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError, UnsolicitedResponse
from saml2.sigver import SignatureError, SigverError, get_xmlsec_binary
from saml2.validate import ResponseLifetimeExceed, ToEarly
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from casecal.auth.sso import AGAIN, SsoRefused
from casecal.config import Settings
from casecal.domain.saml import MAX_RESPONSE_BYTES, NAMEID_EMAIL
from casecal.store.saml_tables import SamlAssertionUse, SamlRequest
from casecal.store.tables import utcnow

log = logging.getLogger(__name__)

REQUEST_LIFETIME = timedelta(minutes=10)
CLOCK_SKEW = timedelta(minutes=2)
"""Allowed difference between the IdP's clock and ours, applied to every time check."""
_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
_SIGNATURE_METHODS = frozenset(
    _MORE + name
    for name in ("rsa-sha256", "rsa-sha384", "rsa-sha512", "ecdsa-sha256", "ecdsa-sha384",
                 "ecdsa-sha512")
)  # fmt: skip
_DIGEST_METHODS = frozenset(
    (
        "http://www.w3.org/2001/04/xmlenc#sha256",
        _MORE + "sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    )
)
"""The only algorithms accepted: SHA-1 (and MD5, RIPEMD-160) signatures and digests are not."""


class SamlMetadataInvalid(ValueError):
    """IdP metadata that cannot be used; the message says why."""


@dataclass(frozen=True)
class ServiceProvider:
    """CaseCal as one firm's SAML service provider: the entity id is the metadata's URL."""

    entity_id: str
    acs_url: str


def service_provider(settings: Settings, firm_id: uuid.UUID) -> ServiceProvider:
    base = settings.base_url.rstrip("/")
    return ServiceProvider(
        entity_id=f"{base}/sso/saml/{firm_id}/metadata", acs_url=f"{base}/sso/saml/{firm_id}/acs"
    )


def _config(sp: ServiceProvider, metadata_xml: str) -> SPConfig:
    try:
        xmlsec = get_xmlsec_binary()
    except SigverError as exc:  # the Debian package xmlsec1 is not installed
        raise SsoRefused(
            "xmlsec_missing", "SAML sign-in is not available on this server (xmlsec1 missing)."
        ) from exc
    conf = SPConfig()
    conf.load(
        {
            "entityid": sp.entity_id,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)],
                    },
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                },
            },
            "metadata": {"inline": [metadata_xml]} if metadata_xml else {},
            "only_use_keys_in_metadata": True,  # never a key the message itself carries
            "accepted_time_diff": int(CLOCK_SKEW.total_seconds()),
            "xmlsec_binary": xmlsec,
            "allow_unknown_attributes": True,
        }
    )
    return conf


def sp_metadata(sp: ServiceProvider) -> str:
    """The SP metadata for the admin to give the IdP: entity id, the ACS (HTTP-POST), signed
    assertions wanted; CaseCal signs nothing, so it has no key."""
    xml: Any = create_metadata_string(None, config=_config(sp, ""), valid=None)
    return xml.decode() if isinstance(xml, bytes) else str(xml)


@dataclass(frozen=True)
class IdpFacts:
    entity_id: str
    sso_url: str


def read_idp_metadata(sp: ServiceProvider, metadata_xml: str) -> IdpFacts:
    """The one IdP the metadata describes, with a signing certificate and an HTTP-Redirect
    single sign-on service; otherwise ``SamlMetadataInvalid``."""
    if not metadata_xml.strip():
        raise SamlMetadataInvalid("give the identity provider's metadata (URL or XML)")
    try:
        client = Saml2Client(_config(sp, metadata_xml))
        idps = list(client.metadata.identity_providers())
    except SsoRefused:
        raise
    except Exception as exc:  # pysaml2 raises many kinds for malformed metadata
        log.info("saml metadata refused: %s", exc)
        raise SamlMetadataInvalid("the metadata is not valid SAML 2.0 metadata") from None
    if len(idps) != 1:
        raise SamlMetadataInvalid("the metadata must describe exactly one identity provider")
    entity_id = str(idps[0])
    if not client.metadata.certs(entity_id, "idpsso", use="signing"):
        raise SamlMetadataInvalid("the metadata names no signing certificate")
    services = client.metadata.single_sign_on_service(entity_id, BINDING_HTTP_REDIRECT)
    if not services:
        raise SamlMetadataInvalid(
            "the identity provider offers no single sign-on service with the HTTP-Redirect binding"
        )
    return IdpFacts(entity_id=entity_id, sso_url=str(services[0]["location"]))


def authn_request(sp: ServiceProvider, metadata_xml: str, idp_entity_id: str) -> tuple[str, str]:
    """A new AuthnRequest: its ID and the IdP URL to send the browser to (HTTP-Redirect)."""
    client = Saml2Client(_config(sp, metadata_xml))
    request_id, info = client.prepare_for_authenticate(
        entityid=idp_entity_id,
        relay_state="",
        binding=BINDING_HTTP_REDIRECT,
        sign=False,
        response_binding=BINDING_HTTP_POST,
    )
    location = dict(info["headers"])["Location"]
    return str(request_id), str(location)


@dataclass(frozen=True)
class SamlAnswer:
    """A verified assertion: who, and what is needed to accept it once."""

    issuer: str
    assertion_id: str
    in_response_to: str
    keep_until: datetime
    name_id: str
    name_id_format: str
    attributes: dict[str, list[object]] = field(default_factory=dict)


def _refused(reason: str, why: str) -> SsoRefused:
    return SsoRefused(f"saml_{reason}", f"CaseCal cannot accept this sign-in: {why}." + AGAIN)


def _epoch(value: object) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _reason_of(exc: Exception) -> SsoRefused:
    text = str(exc)
    if isinstance(exc, UnsolicitedResponse) or "don't recall" in text:
        return _refused("unknown_request", "it answers no sign-in started in this browser")
    if "signature missing" in text.lower():
        return _refused("unsigned", "its assertion is not signed by your firm's identity provider")
    if isinstance(exc, SignatureError):
        return _refused("bad_signature", "its signature does not verify")
    if type(exc).__name__ == "MissingKey":  # no key of the metadata for that issuer
        return _refused("issuer", "it was issued by another identity provider")
    if isinstance(exc, ResponseLifetimeExceed):
        return _refused("expired", "it has expired")
    if isinstance(exc, ToEarly):
        return _refused("not_yet_valid", "it is not valid yet (check the identity provider clock)")
    if isinstance(exc, StatusError):
        return _refused("idp_status", "your firm's identity provider did not sign you in")
    if "AudienceRestrictions" in text:
        return _refused("audience", "it was issued to another service")
    if "recipient" in text.lower():
        return _refused("recipient", "it was addressed to another sign-in address")
    if "incorrectly signed" in text.lower() or "signature" in text.lower():
        return _refused("bad_signature", "its signature does not verify")
    return _refused("invalid", "the answer is not a valid SAML response for this sign-in")


def read_response(
    sp: ServiceProvider,
    metadata_xml: str,
    idp_entity_id: str,
    saml_response: str,
    outstanding: Mapping[str, str],
) -> SamlAnswer:
    """Check a SAMLResponse (base64, HTTP-POST binding) against the firm's IdP metadata and the
    requests this browser has in flight. Blocking (xmlsec1 runs): call it in a thread."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_BYTES:
        raise _refused("invalid", "the answer is missing or too large")
    if not outstanding:
        raise _refused("unknown_request", "no sign-in was started in this browser")
    client = Saml2Client(_config(sp, metadata_xml))
    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding=dict(outstanding)
        )
    except SsoRefused:
        raise
    except Exception as exc:  # pysaml2 signals each failed check with its own exception
        log.info("saml response refused: %s: %s", type(exc).__name__, exc)
        raise _reason_of(exc) from None
    if response is None or response.assertion is None:
        raise _refused(
            "destination", "it is not addressed to CaseCal's sign-in address for your firm"
        )
    envelope = response.response
    if len(envelope.assertion or []) + len(envelope.encrypted_assertion or []) != 1:
        raise _refused("invalid", "it must carry exactly one assertion")
    assertion = response.assertion
    issuer = (response.issuer() or "").strip()
    if issuer != idp_entity_id:
        raise _refused("issuer", "it was issued by another identity provider")
    signature = assertion.signature
    if signature is None:  # pysaml2 refuses this already (want_assertions_signed)
        raise _refused("unsigned", "its assertion is not signed by your firm's identity provider")
    method = str(signature.signed_info.signature_method.algorithm)
    digests = {str(ref.digest_method.algorithm) for ref in signature.signed_info.reference}
    if method not in _SIGNATURE_METHODS or not digests or not digests <= _DIGEST_METHODS:
        raise _refused(
            "weak_signature",
            "it is signed with SHA-1 or another algorithm CaseCal does not accept (use SHA-256)",
        )
    in_response_to = str(envelope.in_response_to or "")
    confirmations = assertion.subject.subject_confirmation if assertion.subject else []
    recipients = {
        str(c.subject_confirmation_data.recipient or "")
        if c.subject_confirmation_data is not None
        else ""
        for c in confirmations
        if c.method == _BEARER
    }
    if recipients != {sp.acs_url}:  # pysaml2 checks a Recipient only when given conv_info
        raise _refused("recipient", "it was addressed to another sign-in address")
    confirmed_for = {
        str(c.subject_confirmation_data.in_response_to)
        for c in confirmations
        if c.subject_confirmation_data is not None and c.subject_confirmation_data.in_response_to
    }
    request_ids = ({in_response_to} if in_response_to else set()) | confirmed_for
    if len(request_ids) != 1 or next(iter(request_ids)) not in outstanding:
        raise _refused("unknown_request", "it answers no sign-in started in this browser")
    ends = [_epoch(response.not_on_or_after)] + [
        _parse_time(c.subject_confirmation_data.not_on_or_after)
        for c in confirmations
        if c.subject_confirmation_data is not None
    ]
    known_ends = [end for end in ends if end is not None]
    keep_until = (max(known_ends) if known_ends else utcnow() + REQUEST_LIFETIME) + CLOCK_SKEW
    name_id = response.name_id
    return SamlAnswer(
        issuer=issuer,
        assertion_id=str(assertion.id or ""),
        in_response_to=next(iter(request_ids)),
        keep_until=keep_until,
        name_id=str(name_id.text or "").strip() if name_id is not None else "",
        name_id_format=str(name_id.format or "") if name_id is not None else "",
        attributes={str(k): list(v) for k, v in (response.ava or {}).items()},
    )


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def subject_of(answer: SamlAnswer, email: str) -> str:
    """The identity to bind: the NameID, unless it is transient (new at every sign-in), when
    the verified address stands for it."""
    if answer.name_id_format.endswith(":transient") or not answer.name_id:
        return f"email:{email}"
    if answer.name_id_format == NAMEID_EMAIL:
        return answer.name_id.lower()
    return answer.name_id


async def create_request(
    session: AsyncSession, firm_id: uuid.UUID, request_id: str, binding: str, next_url: str
) -> SamlRequest:
    """Remember an AuthnRequest (flushed); requests expired an hour ago or more, and
    assertions past their lifetime, are removed."""
    now = utcnow()
    await session.execute(
        delete(SamlRequest).where(SamlRequest.expires_at <= now - timedelta(hours=1))
    )
    await session.execute(delete(SamlAssertionUse).where(SamlAssertionUse.expires_at <= now))
    row = SamlRequest(
        request_id=request_id,
        firm_id=firm_id,
        browser_binding=binding,
        next_url=next_url,
        created_at=now,
        expires_at=now + REQUEST_LIFETIME,
    )
    session.add(row)
    await session.flush()
    return row


async def outstanding(session: AsyncSession, firm_id: uuid.UUID, binding: str) -> dict[str, str]:
    """The firm's requests this browser has in flight (unused, unexpired): ID -> next page."""
    if not binding:
        return {}
    rows = await session.execute(
        select(SamlRequest.request_id, SamlRequest.browser_binding, SamlRequest.next_url).where(
            SamlRequest.firm_id == firm_id,
            SamlRequest.browser_binding == binding,
            SamlRequest.used_at.is_(None),
            SamlRequest.expires_at > utcnow(),
        )
    )
    return {
        row.request_id: row.next_url
        for row in rows
        if hmac.compare_digest(row.browser_binding, binding)
    }


async def consume_request(
    session: AsyncSession, firm_id: uuid.UUID, request_id: str, binding: str
) -> None:
    """Use up the request the answer names (committed at once): a second answer to it fails."""
    result = await session.execute(
        update(SamlRequest)
        .where(
            SamlRequest.request_id == request_id,
            SamlRequest.firm_id == firm_id,
            SamlRequest.browser_binding == binding,
            SamlRequest.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise SsoRefused(
            "saml_request_used", "This sign-in answer was already used once." + AGAIN, firm_id
        )
    await session.commit()


async def remember_assertion(session: AsyncSession, firm_id: uuid.UUID, answer: SamlAnswer) -> None:
    """Accept an assertion once: its ID is kept until it expires; a second use is refused."""
    if not answer.assertion_id:
        raise _refused("invalid", "its assertion has no ID")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(SamlAssertionUse)
        .values(
            firm_id=firm_id,
            assertion_id=answer.assertion_id[:256],
            used_at=utcnow(),
            expires_at=answer.keep_until,
        )
        .on_conflict_do_nothing()
    )
    if getattr(result, "rowcount", 0) != 1:
        raise SsoRefused(
            "saml_replayed",
            "This sign-in assertion was already used once; an assertion signs in only once."
            + AGAIN,
            firm_id,
        )
    await session.commit()
