"""The demo suite's one fixture: ``casecal demo`` running as a newcomer runs it (see
``harness``: default settings apart from the ports and the data directory)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.e2e.demo.forms import FormBrowser
from tests.e2e.demo.harness import RunningDemo, running_demo


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningDemo]:
    with running_demo(tmp_path) as running:
        yield running


@pytest.fixture
def new_browser() -> Iterator[Callable[[], FormBrowser]]:
    """Opens a person's form browser; every one opened is closed after the test."""
    opened: list[FormBrowser] = []

    def open_one() -> FormBrowser:
        opened.append(FormBrowser())
        return opened[-1]

    yield open_one
    for browser in opened:
        browser.close()
