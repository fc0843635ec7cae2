"""Signed values and device cookies: a value verifies with the secret that signed it (also
after a newer secret is added in front), not after its expiry, not for another purpose, and
not once altered; a device cookie is trusted for its own email only."""

from __future__ import annotations

import time
import uuid

from casecal.auth.devices import Device, device_for, issue_device
from casecal.auth.signed import sign, unsign


def test_a_signed_value_round_trips_and_survives_rotation() -> None:
    value = sign(["old"], "purpose", "payload\nwith lines", max_age=60)
    assert unsign(["old"], "purpose", value) == "payload\nwith lines"
    assert unsign(["new", "old"], "purpose", value) == "payload\nwith lines"
    assert unsign(["new"], "purpose", value) is None


def test_a_signed_value_is_refused_altered_expired_or_for_another_purpose() -> None:
    value = sign(["k"], "purpose", "payload", max_age=60)
    body, expiry, mac = value.split(".")
    assert unsign(["k"], "other purpose", value) is None
    assert unsign(["k"], "purpose", f"{body}.{int(expiry) + 999}.{mac}") is None
    assert unsign(["k"], "purpose", f"{body}x.{expiry}.{mac}") is None
    assert unsign(["k"], "purpose", value, now=time.time() + 61) is None
    for garbage in ("", "a.b", "a.b.c", "a.1.c.d", value + "."):
        assert unsign(["k"], "purpose", garbage) is None


def test_a_device_cookie_is_trusted_for_its_email_and_names_its_accounts() -> None:
    ada, twin = uuid.uuid4(), uuid.uuid4()
    cookie = issue_device(["k"], "ada@firm.test", [ada])
    device = device_for(["k"], cookie, "ada@firm.test")
    assert device is not None
    assert device.accounts == {ada}
    assert device_for(["k"], cookie, "bob@firm.test") is None
    assert device_for(["other"], cookie, "ada@firm.test") is None
    assert device_for(["k"], None, "ada@firm.test") is None
    again = device_for(["k"], issue_device(["k"], "ada@firm.test", [ada]), "ada@firm.test")
    assert again is not None
    assert again.nonce != device.nonce  # a new browser, a new budget
    more = device_for(["k"], issue_device(["k"], "ada@firm.test", [twin], device), "ada@firm.test")
    assert more == Device(device.nonce, frozenset({ada, twin}))  # the same browser keeps its own


def test_non_ascii_or_odd_digits_in_a_signed_value_are_refused_not_raised() -> None:
    value = sign(["k"], "purpose", "payload", max_age=60)
    body, expiry, mac = value.split(".")
    for hostile in ("a.1.\u00e9", f"{body}.{expiry}.{mac[:-1]}\u00e9", "a.1\u00b2.x",
                    f"{body}.{'9' * 5000}.{mac}", "\u00e9.1.x"):  # fmt: skip
        assert unsign(["k"], "purpose", hostile) is None
