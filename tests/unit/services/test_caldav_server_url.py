"""The CalDAV connect form's server address: a preset's own URL, Nextcloud's DAV root added to
a bare server, HTTPS required except on the loopback interface, nothing else accepted."""

from __future__ import annotations

import pytest

from casecal.errors import ValidationFailed
from casecal.services.caldav_connect import BY_KEY, server_url_for


@pytest.mark.parametrize(
    ("preset", "entered", "url"),
    [
        ("icloud", "https://evil.example/", "https://caldav.icloud.com/"),
        ("fastmail", "", "https://caldav.fastmail.com/"),
        ("nextcloud", "cloud.example.com", "https://cloud.example.com/remote.php/dav/"),
        ("nextcloud", "https://cloud.example.com/", "https://cloud.example.com/remote.php/dav/"),
        (
            "nextcloud",
            "https://x.example/nc/remote.php/dav",
            "https://x.example/nc/remote.php/dav/",
        ),
        ("other", "https://dav.example.org/cal", "https://dav.example.org/cal/"),
        ("other", "http://127.0.0.1:5232/", "http://127.0.0.1:5232/"),
        ("other", "http://localhost:5232", "http://localhost:5232/"),
    ],
)
def test_the_server_address(preset: str, entered: str, url: str) -> None:
    assert server_url_for(preset, entered) == url


@pytest.mark.parametrize(
    ("preset", "entered"),
    [
        ("nope", "https://dav.example.org/"),
        ("other", ""),
        ("nextcloud", "   "),
        ("other", "http://dav.example.org/"),
        ("other", "http://10.0.0.5/"),
        ("other", "ftp://dav.example.org/"),
        ("other", "https://user:pw@dav.example.org/"),
        ("other", "https://"),
    ],
)
def test_what_is_refused(preset: str, entered: str) -> None:
    with pytest.raises(ValidationFailed):
        server_url_for(preset, entered)


def test_every_preset_says_how_to_make_an_app_password() -> None:
    assert set(BY_KEY) == {"icloud", "fastmail", "nextcloud", "other"}
    assert all("password" in p.app_password_help.lower() for p in BY_KEY.values())
