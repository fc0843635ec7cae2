"""Remote -> host latency as a person sees it: the moment an edit is saved in the emulated
calendar until CaseCal's calendar page shows it, nobody pressing "Sync now"."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.demo.flows import wait_for
from tests.e2e.demo.forms import FormBrowser
from tests.e2e.demo.harness import RunningDemo

LIMIT_SECONDS = 5.0
"""Issue 10's acceptance: an edit made in the provider's calendar arrives within 5 seconds."""
REPORT = Path(__file__).resolve().parents[3] / "test-output" / "demo-latency.json"


def seconds_until_shown(
    browser: FormBrowser,
    demo: RunningDemo,
    text: str,
    since: float,
    deliveries: Callable[[], list[dict[str, Any]]],
) -> float:
    """Reload CaseCal's calendar page until ``text`` is on it; seconds since ``since``. On
    failure the answers to the provider's push deliveries are shown."""

    def shown() -> bool:
        return text in browser.goto(f"{demo.url}/calendar").text

    try:
        wait_for(f"{text!r} on CaseCal's calendar page", shown, timeout=30, every=0.1)
    except AssertionError as exc:
        sent = [d.get("status") for d in deliveries()]
        raise AssertionError(f"{exc}; push deliveries answered {sent}") from None
    return time.monotonic() - since


def report(provider: str, seconds: float) -> None:
    """Print the figure and keep it in test-output/ (the newcomer suite's record)."""
    print(f"\nremote -> host latency ({provider}, default install): {seconds:.2f} s")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    seen = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    seen[provider] = round(seconds, 2)
    REPORT.write_text(json.dumps(seen, indent=2) + "\n")
