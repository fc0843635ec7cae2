"""IANA <-> Windows zone names through CLDR, with the hint rule and custom/unknown zones."""

from __future__ import annotations

import pytest
from tzlocal.windows_tz import win_tz

from casecal.domain.timezones import (
    CUSTOM_ZONE,
    UnknownTimeZone,
    iana_name,
    require_iana_name,
    windows_name,
    zone,
)


def test_windows_names_of_common_zones() -> None:
    assert windows_name("America/New_York") == "Eastern Standard Time"
    assert windows_name("Europe/London") == "GMT Standard Time"
    assert windows_name("Australia/Sydney") == "AUS Eastern Standard Time"
    assert windows_name("UTC") == windows_name("Etc/UTC") == "UTC"
    assert windows_name("Not/AZone") is None


def test_one_windows_name_many_zones_keeps_the_known_zone() -> None:
    assert iana_name("GMT Standard Time") == "Europe/London"
    assert iana_name("GMT Standard Time", hint="Europe/Dublin") == "Europe/Dublin"
    assert iana_name("GMT Standard Time", hint="Europe/Lisbon") == "Europe/Lisbon"
    # a hint from another Windows zone is not used
    assert iana_name("GMT Standard Time", hint="America/New_York") == "Europe/London"


def test_every_cldr_default_zone_round_trips() -> None:
    for name, iana in win_tz.items():
        assert iana_name(name) == ("UTC" if name == "UTC" else iana)
        assert windows_name(iana) == name, (name, iana)


def test_every_mapped_zone_round_trips_with_its_hint() -> None:
    from tzlocal.windows_tz import tz_win

    for iana, name in tz_win.items():
        assert iana_name(windows_name(iana) or "", hint=iana) == iana
        assert windows_name(iana) == name


def test_iana_names_from_graph_pass_through() -> None:
    assert iana_name("America/Los_Angeles") == "America/Los_Angeles"
    assert iana_name("UTC", hint="Europe/London") == "UTC"
    assert iana_name("UTC") == "UTC"


def test_custom_and_unknown_zones_name_nothing() -> None:
    assert iana_name(CUSTOM_ZONE) is None
    assert iana_name("Mars Standard Time") is None
    assert iana_name("") is None
    with pytest.raises(UnknownTimeZone, match="Custom"):
        require_iana_name(CUSTOM_ZONE)
    with pytest.raises(UnknownTimeZone):
        zone("Mars/Olympus_Mons")


def test_legacy_cldr_ids_load() -> None:
    assert iana_name("India Standard Time") == "Asia/Calcutta"
    assert iana_name("India Standard Time", hint="Asia/Kolkata") == "Asia/Kolkata"
    assert zone("Asia/Calcutta").key == "Asia/Calcutta"
