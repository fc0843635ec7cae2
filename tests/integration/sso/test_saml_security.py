"""SAML sign-in refusals: an unsigned assertion, one signed by a key the IdP's metadata does not
name, one altered after signing, a replayed answer and a replayed assertion, another audience,
another recipient or destination, an expired assertion, an InResponseTo that is unknown, absent
or another browser's, an address at a domain the firm does not list, a firm whose SAML is off
- each answered with a page saying why, no session and no user made, and (for a browser with
a sign-in of the firm in flight) audited; junk posted to the ACS never makes a 5xx; a SAML firm
that requires SSO refuses local passwords but not its break-glass admin's."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from saml_idp import SamlIdp
from saml_world import DOMAIN, PASSWORD, SamlWorld, decoded, encoded, make_world

from casecal.config import Settings
from casecal.services.access import Actor
from casecal.services.firms import create_firm
from casecal.services.saml import SamlInput, save_saml_config
from casecal.store.tables import User


@pytest.fixture
async def world(app: FastAPI, app_settings: Settings, tmp_path: Path) -> SamlWorld:
    made = await make_world(app, app_settings, tmp_path)
    await made.configure(allow_provisioning=True)
    return made


async def _refused(world: SamlWorld, answer: httpx.Response, text: str, reason: str) -> None:
    assert answer.status_code == 403, answer.text
    assert "Sign-in refused" in answer.text
    assert text in html.unescape(answer.text)
    assert "casecal_session" not in answer.headers.get("set-cookie", "")
    assert await world.sessions() == 0
    refusals = await world.audit("sso.refused")
    assert refusals, "the refusal is audited for the firm"
    assert refusals[-1] == {"reason": reason}


BENT: list[tuple[str, dict[str, Any], str, str]] = [
    ("unsigned", {"sign_assertion": False}, "is not signed", "saml_unsigned"),
    ("another audience", {"audience": "https://other-app.example/saml"},
     "issued to another service", "saml_audience"),
    ("another recipient", {"recipient": "https://other-app.example/acs"},
     "addressed to another sign-in address", "saml_recipient"),
    ("another destination", {"destination": "https://other-app.example/acs"},
     "not addressed to CaseCal", "saml_destination"),
    ("expired", {"not_on_or_after": timedelta(minutes=-10)},
     "it has expired", "saml_expired"),
    ("not valid yet (NotBefore ahead)",
     {"not_before": timedelta(minutes=10), "not_on_or_after": timedelta(minutes=20)},
     "it is not valid yet", "saml_not_yet_valid"),
    ("unknown InResponseTo", {"in_response_to": "id-not-one-casecal-sent"},
     "answers no sign-in started in this browser", "saml_unknown_request"),
    ("unsolicited (no InResponseTo)", {"in_response_to": ""},
     "answers no sign-in started in this browser", "saml_unknown_request"),
    ("SHA-1 signature", {"sha1": True}, "signed with SHA-1", "saml_weak_signature"),
    ("another issuer", {"issuer": "https://idp.elsewhere.test/metadata"},
     "issued by another identity provider", "saml_issuer"),
]  # fmt: skip


@pytest.mark.parametrize(("bend", "text", "reason"), [b[1:] for b in BENT],
                         ids=[b[0] for b in BENT])  # fmt: skip
async def test_a_bent_answer_is_refused(
    world: SamlWorld, bend: dict[str, Any], text: str, reason: str
) -> None:
    now = datetime.now(UTC)  # times are given from now, as the test runs
    bend = {k: now + v if isinstance(v, timedelta) else v for k, v in bend.items()}
    answer = await world.sign_in(f"cara@{DOMAIN}", **bend)
    await _refused(world, answer, text, reason)
    assert "Nothing was signed in" in answer.text


async def test_an_assertion_signed_by_a_key_not_in_the_metadata_is_refused(
    world: SamlWorld,
) -> None:
    """An impostor with the IdP's entity id and its own key (its certificate in the message's
    KeyInfo): only the metadata's key counts."""
    impostor = SamlIdp(world.tmp / "impostor", entity_id=world.idp.entity_id, name="impostor")
    browser = world.browser()
    seen = await world.start(browser, f"cara@{DOMAIN}")
    answer = await world.post(browser, impostor.response(seen, f"cara@{DOMAIN}"))
    await _refused(world, answer, "signature does not verify", "saml_bad_signature")


async def test_an_assertion_altered_after_signing_is_refused(world: SamlWorld) -> None:
    browser = world.browser()
    seen = await world.start(browser, f"cara@{DOMAIN}")
    signed = decoded(world.idp.response(seen, f"nina@{DOMAIN}"))
    altered = signed.replace(f"nina@{DOMAIN}", f"ada@{DOMAIN}")
    assert altered != signed
    answer = await world.post(browser, encoded(altered))
    await _refused(world, answer, "signature does not verify", "saml_bad_signature")


async def test_a_replayed_answer_is_refused(world: SamlWorld) -> None:
    browser = world.browser()
    seen = await world.start(browser, f"cara@{DOMAIN}")
    cookie = browser.cookies["casecal_saml"]
    response = world.idp.response(seen, f"cara@{DOMAIN}")
    first = await world.post(browser, response)
    assert first.status_code == 303, first.text
    replay = world.browser()  # the same answer and the same browser cookie, again
    again = await replay.post(world.acs_path, data={"SAMLResponse": response},
                              headers={"Cookie": f"casecal_saml={cookie}"})  # fmt: skip
    assert again.status_code == 403
    assert "Sign-in refused" in again.text
    assert await world.sessions() == 1


async def test_an_assertion_id_used_once_is_refused_in_a_later_sign_in(world: SamlWorld) -> None:
    """The replay cache on its own: a second sign-in, with its own fresh request, whose signed
    assertion reuses an ID already accepted (until its NotOnOrAfter) is refused."""
    first = await world.sign_in(f"cara@{DOMAIN}", assertion_id="_reused-assertion-1")
    assert first.status_code == 303, first.text
    again = await world.sign_in(f"cara@{DOMAIN}", assertion_id="_reused-assertion-1")
    assert again.status_code == 403
    assert "already used once" in again.text
    assert await world.sessions() == 1
    assert (await world.audit("sso.refused"))[-1] == {"reason": "saml_replayed"}


async def test_an_answer_to_another_browsers_request_is_refused(world: SamlWorld) -> None:
    alice_browser, mallory_browser = world.browser(), world.browser()
    seen = await world.start(alice_browser, f"cara@{DOMAIN}")
    await world.start(mallory_browser, f"cara@{DOMAIN}")  # her own request is in flight too
    answer = await world.post(mallory_browser, world.idp.response(seen, f"cara@{DOMAIN}"))
    await _refused(world, answer, "answers no sign-in started in this browser",
                   "saml_unknown_request")  # fmt: skip
    cookieless = await world.browser().post(
        world.acs_path, data={"SAMLResponse": world.idp.response(seen, f"cara@{DOMAIN}")}
    )
    assert cookieless.status_code == 403
    assert "no sign-in was started in this browser" in cookieless.text
    assert await world.sessions() == 0
    still = await world.post(alice_browser, world.idp.response(seen, f"cara@{DOMAIN}"))
    assert still.status_code == 303  # the request stays Alice's, unused by the refusals


async def test_an_address_at_a_domain_the_firm_does_not_list_is_refused(
    world: SamlWorld,
) -> None:
    answer = await world.sign_in(f"cara@{DOMAIN}", name_id="xavier@elsewhere.test")
    await _refused(world, answer, "is not at one of your firm's email domains", "foreign_domain")
    assert await world.user("xavier@elsewhere.test") is None


async def test_a_firm_whose_sso_is_off_is_refused(world: SamlWorld) -> None:
    browser = world.browser()
    seen = await world.start(browser, f"cara@{DOMAIN}")
    await world.configure(enabled=False)
    answer = await world.post(browser, world.idp.response(seen, f"cara@{DOMAIN}"))
    await _refused(world, answer, "does not sign in with SAML", "disabled")


def _bomb() -> str:
    entities = "".join(f'<!ENTITY e{i} "&e{i - 1};&e{i - 1};&e{i - 1};">' for i in range(1, 9))
    xml = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e0 "lol">' + entities + "]>"
           '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&e8;'
           "</samlp:Response>")  # fmt: skip
    return encoded(xml)


FORM = {"content-type": "application/x-www-form-urlencoded"}
JUNK: list[tuple[str, dict[str, str] | bytes]] = [
    ("no SAMLResponse", {}),
    ("empty", {"SAMLResponse": ""}),
    ("not base64", {"SAMLResponse": "%%%not-base64!!!"}),
    ("base64 of not XML", {"SAMLResponse": base64.b64encode(b"\x00\xffhello").decode()}),
    ("XML that is not SAML", {"SAMLResponse": encoded("<hello>world</hello>")}),
    ("entity expansion bomb", {"SAMLResponse": _bomb()}),
    ("external entity", {"SAMLResponse": encoded(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;'
        "</samlp:Response>")}),
    ("raw bytes body", b"\xff\xfe\x00SAMLResponse=\x80"),
    ("many fields", b"&".join(b"f%d=1" % i for i in range(500))),
]  # fmt: skip


@pytest.mark.parametrize("body", [j[1] for j in JUNK], ids=[j[0] for j in JUNK])
async def test_junk_at_the_acs_is_refused_without_a_server_error(
    world: SamlWorld, body: dict[str, str] | bytes
) -> None:
    browser = world.browser()
    await world.start(browser, f"cara@{DOMAIN}")  # a sign-in in flight: the full checks run
    if isinstance(body, bytes):
        answer = await browser.post(world.acs_path, content=body, headers=FORM)
    else:
        answer = await browser.post(world.acs_path, data=body)
    assert answer.status_code == 403, answer.text
    assert "Sign-in refused" in answer.text
    assert await world.sessions() == 0


async def test_an_oversized_or_misaddressed_post_to_the_acs_is_refused(world: SamlWorld) -> None:
    browser = world.browser()
    big = await browser.post(
        world.acs_path, content=b"SAMLResponse=" + b"A" * 600_000, headers=FORM
    )
    assert big.status_code == 413
    nowhere = await browser.post("/sso/saml/not-a-firm/acs", data={"SAMLResponse": "x"})
    assert nowhere.status_code == 404
    other = "00000000-0000-4000-8000-000000000000"
    unknown = await browser.post(f"/sso/saml/{other}/acs", data={"SAMLResponse": "x"})
    assert unknown.status_code == 403


async def _password(world: SamlWorld, email: str) -> httpx.Response:
    browser = world.browser()
    await browser.get("/login")
    csrf = browser.cookies.get("casecal_login_csrf", "")
    return await browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf}
    )


async def test_a_saml_firm_that_requires_sso_refuses_local_passwords_but_its_break_glass_admin(
    world: SamlWorld,
) -> None:
    assert (await _password(world, f"cara@{DOMAIN}")).status_code == 303
    await world.configure(require_sso=True, break_glass_email=f"ada@{DOMAIN}")
    refused = await _password(world, f"cara@{DOMAIN}")
    assert refused.status_code == 403
    assert "local passwords are turned off" in refused.text
    assert "casecal_session" not in refused.headers.get("set-cookie", "")
    admin = await _password(world, f"ada@{DOMAIN}")
    assert admin.status_code == 303
    done = await world.sign_in(f"cara@{DOMAIN}")
    assert done.status_code == 303  # through the SAML IdP she still signs in


async def test_a_sign_in_of_one_firm_does_not_open_another_firm_with_the_same_idp(
    world: SamlWorld,
) -> None:
    """Two firms trust the same IdP: each firm's ACS takes only answers to that firm's own
    requests, made for that firm's entity id."""
    async with world.app.state.sessionmaker() as session:
        other = await create_firm(session, name="Other LLP", admin_email="oz@other-saml.test",
                                  admin_name="Oz")  # fmt: skip
        oz = await session.get(User, other.admin_user_id)
        assert oz is not None
        await save_saml_config(session, world.app.state.http, world.settings, Actor.of(oz),
                               SamlInput(metadata_xml=world.idp.metadata(),
                                         domains="other-saml.test", enabled=True,
                                         allow_provisioning=True))  # fmt: skip
    browser = world.browser()
    seen = await world.start(browser, f"cara@{DOMAIN}")  # a request of the first firm
    other_acs = f"/sso/saml/{other.firm_id}/acs"
    answer = world.idp.response(seen, "oz@other-saml.test")
    moved = await browser.post(other_acs, data={"SAMLResponse": answer})
    assert moved.status_code == 403
    assert "no sign-in was started in this browser" in moved.text
    await world.start(browser, "oz@other-saml.test")  # now one of the other firm too
    moved = await browser.post(other_acs, data={"SAMLResponse": answer})
    assert moved.status_code == 403  # made for the first firm's audience and request
    assert await world.sessions() == 0
