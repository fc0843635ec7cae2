"""The client behind reverse proxies: X-Forwarded-For is believed only from trusted proxies,
read from the right, and a client cannot hide behind addresses it wrote itself."""

from __future__ import annotations

import re
from ipaddress import ip_address

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from casecal.config import Settings
from casecal.domain.client_address import client_address, trusted_networks

PROXIES = trusted_networks(["10.0.0.0/8", "2001:db8::1", " 192.168.1.1 "])


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_address("203.0.113.9", ["1.2.3.4"], PROXIES) == "203.0.113.9"
    assert client_address("203.0.113.9", [], []) == "203.0.113.9"


def test_a_trusted_proxy_forwards_the_right_most_untrusted_hop() -> None:
    assert client_address("10.0.0.5", ["198.51.100.7"], PROXIES) == "198.51.100.7"
    # a client's own X-Forwarded-For (left) proves nothing: the proxy appended the real one
    assert client_address("10.0.0.5", ["6.6.6.6, 198.51.100.7"], PROXIES) == "198.51.100.7"
    # proxies chained: skip every trusted hop, across several headers
    forwarded = ["6.6.6.6", "198.51.100.7, 10.2.2.2", "192.168.1.1"]
    assert client_address("2001:db8::1", forwarded, PROXIES) == "198.51.100.7"


def test_only_proxies_or_garbage_end_at_the_last_proxy() -> None:
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["10.0.0.9"], PROXIES) == "10.0.0.9"
    assert client_address("10.0.0.5", ["not-an-ip"], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["not-an-ip, 10.3.3.3"], PROXIES) == "10.3.3.3"


def test_a_malformed_proxy_setting_is_named() -> None:
    with pytest.raises(ValueError, match="'nonsense'"):
        trusted_networks(["10.0.0.0/8", "nonsense"])


@given(st.lists(st.text(max_size=40), max_size=5), st.ip_addresses().map(str))
def test_an_untrusted_peer_never_borrows_a_forwarded_address(headers: list[str], peer: str) -> None:
    assume(not any(ip_address(peer) in network for network in PROXIES))
    assert client_address(peer, headers, PROXIES) == peer


def test_settings_refuse_a_malformed_proxy_at_start_up() -> None:
    assert Settings(trusted_proxies=["10.0.0.0/8", "::1"]).trusted_proxies == ["10.0.0.0/8", "::1"]
    with pytest.raises(ValidationError, match=re.escape("'10.0.0.300'")):
        Settings(trusted_proxies=["10.0.0.300"])
