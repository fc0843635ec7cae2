"""A SAML 2.0 identity provider for the tests, built with pysaml2 (the library CaseCal uses as
a service provider): its own RSA key and self-signed certificate made here with
``cryptography``, its metadata for the firm admin to paste, the AuthnRequest read with
pysaml2's ``Server``, and responses whose assertion it signs with xmlsec1 - or that it bends
one way on purpose (unsigned, another audience, another recipient, expired, a reused
assertion ID...). ``asgi_app`` serves it over HTTP for the browser test."""

from __future__ import annotations

import base64
import html
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT, saml, samlp
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.s_utils import factory
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT
from saml2.sigver import get_xmlsec_binary, pre_signature_part
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

with warnings.catch_warnings():  # pysaml2's IdP imports a cipher mode cryptography moved
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2.server import Server

SCM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def _key_and_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AuthnRequestSeen:
    id: str
    acs_url: str
    sp_entity_id: str


class SamlIdp:
    """One identity provider: ``entity_id``, its single sign-on URL, a signing key."""

    def __init__(
        self, directory: Path, *, entity_id: str = "https://idp.saml-firm.test/metadata",
        sso_url: str = "https://idp.saml-firm.test/sso", name: str = "idp",
    ) -> None:  # fmt: skip
        directory.mkdir(parents=True, exist_ok=True)
        key, cert = _key_and_certificate(directory, name)
        self.entity_id = entity_id
        self.sso_url = sso_url
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT)],
                        },
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    },
                },
                "key_file": str(key),
                "cert_file": str(cert),
                "xmlsec_binary": get_xmlsec_binary(),
            }
        )
        self.server = Server(config=config)

    def metadata(self) -> str:
        xml = create_metadata_string(None, config=self.server.config, valid=None)
        return xml.decode() if isinstance(xml, bytes) else str(xml)

    def read_request(self, url: str) -> AuthnRequestSeen:
        """The AuthnRequest of CaseCal's redirect (HTTP-Redirect binding), parsed by pysaml2."""
        query = parse_qs(urlsplit(url).query)
        request = self.server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        message = request.message
        return AuthnRequestSeen(
            id=str(message.id),
            acs_url=str(message.assertion_consumer_service_url),
            sp_entity_id=str(message.issuer.text),
        )

    def response(
        self,
        seen: AuthnRequestSeen,
        email: str,
        *,
        attributes: dict[str, list[str]] | None = None,
        name_id: str | None = None,
        name_id_format: str = NAMEID_FORMAT_EMAILADDRESS,
        audience: str | None = None,
        recipient: str | None = None,
        destination: str | None = None,
        in_response_to: str | None = None,
        not_on_or_after: datetime | None = None,
        not_before: datetime | None = None,
        assertion_id: str | None = None,
        sign_assertion: bool = True,
        issuer: str | None = None,
        sha1: bool = False,
    ) -> str:
        """A SAMLResponse (base64) answering ``seen``; each keyword bends one thing."""
        now = datetime.now(UTC)
        ends_at = not_on_or_after or now + timedelta(minutes=5)
        ends = _time(ends_at)
        answer_to = seen.id if in_response_to is None else in_response_to
        acs = seen.acs_url
        assertion = saml.Assertion(
            id=assertion_id or f"_a{uuid.uuid4().hex}",
            version="2.0",
            issue_instant=_time(now),
            issuer=saml.Issuer(text=issuer or self.entity_id, format=saml.NAMEID_FORMAT_ENTITY),
            subject=saml.Subject(
                name_id=saml.NameID(text=name_id or email, format=name_id_format),
                subject_confirmation=[
                    saml.SubjectConfirmation(
                        method=SCM_BEARER,
                        subject_confirmation_data=saml.SubjectConfirmationData(
                            in_response_to=answer_to or None,
                            not_on_or_after=ends,
                            recipient=recipient or acs,
                        ),
                    )
                ],
            ),
            conditions=saml.Conditions(
                not_before=_time(not_before or min(now, ends_at) - timedelta(minutes=5)),
                not_on_or_after=ends,
                audience_restriction=[
                    saml.AudienceRestriction(
                        audience=[saml.Audience(text=audience or seen.sp_entity_id)]
                    )
                ],
            ),
            authn_statement=[
                saml.AuthnStatement(
                    authn_instant=_time(now),
                    session_index=uuid.uuid4().hex,
                    authn_context=saml.AuthnContext(
                        authn_context_class_ref=saml.AuthnContextClassRef(text=PASSWORD_CONTEXT)
                    ),
                )
            ],
            attribute_statement=[
                saml.AttributeStatement(
                    attribute=[
                        saml.Attribute(
                            name=key,
                            name_format=saml.NAME_FORMAT_BASIC,
                            attribute_value=[factory(saml.AttributeValue, text=v) for v in values],
                        )
                        for key, values in (attributes or {}).items()
                    ]
                )
            ]
            if attributes
            else [],
        )
        response = samlp.Response(
            id=f"_r{uuid.uuid4().hex}",
            version="2.0",
            issue_instant=_time(now),
            destination=destination or acs,
            in_response_to=answer_to or None,
            issuer=saml.Issuer(text=issuer or self.entity_id, format=saml.NAMEID_FORMAT_ENTITY),
            status=samlp.Status(status_code=samlp.StatusCode(value=SUCCESS)),
        )
        if sign_assertion:
            assertion.signature = pre_signature_part(
                assertion.id, self.server.sec.my_cert, 1,
                digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
                sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
            )  # fmt: skip
        response.assertion = [assertion]
        xml = str(response)
        if sign_assertion:
            xml = self.server.sec.sign_statement(
                xml, node_name="urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                node_id=assertion.id,
            )  # fmt: skip
        return base64.b64encode(xml.encode() if isinstance(xml, str) else xml).decode()

    def asgi_app(self, email: str, name: str) -> Starlette:
        """The IdP's sign-in page over HTTP: it shows the person it signs in and a button that
        posts the signed response to CaseCal's ACS (HTTP-POST binding)."""

        async def sso(request: Request) -> Response:
            seen = self.read_request(str(request.url))
            answer = self.response(seen, email, attributes={"displayName": [name]})
            page = (
                "<!doctype html><html><head><title>Firm identity provider</title></head>"
                "<body style='font-family:sans-serif;margin:3em'>"
                "<h1>Firm identity provider (SAML)</h1>"
                f"<p>Signing in <strong>{html.escape(name)}</strong> ({html.escape(email)}) to "
                f"<code>{html.escape(seen.sp_entity_id)}</code>.</p>"
                f"<form method='post' action='{html.escape(seen.acs_url)}'>"
                f"<input type='hidden' name='SAMLResponse' value='{answer}'>"
                "<button type='submit'>Continue to CaseCal</button></form></body></html>"
            )
            return HTMLResponse(page)

        return Starlette(routes=[Route("/sso", sso)])


__all__ = ["NAMEID_FORMAT_EMAILADDRESS", "NAMEID_FORMAT_PERSISTENT", "AuthnRequestSeen", "SamlIdp"]
