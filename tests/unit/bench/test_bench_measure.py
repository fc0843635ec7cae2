"""The bench's RSS growth is the measured section's own peak, not the set-up's before it."""

from __future__ import annotations

import sys

import pytest
from bench.measure import Meter, reset_peak_rss


@pytest.mark.skipif(sys.platform != "linux", reason="the peak is reset through Linux /proc")
def test_a_large_set_up_before_the_section_is_not_counted() -> None:
    if not reset_peak_rss():
        pytest.skip("this kernel does not let a process reset its peak RSS (/proc clear_refs)")
    setup = bytearray(200 * 2**20)
    setup[::4096] = b"x" * len(setup[::4096])  # touched: resident
    del setup
    meter = Meter()
    meter.start()
    section = bytearray(20 * 2**20)
    section[::4096] = b"x" * len(section[::4096])
    measured = meter.stop()
    del section
    assert 15 <= measured.rss_growth_mb < 100  # the section's 20 MB, not the set-up's 200
