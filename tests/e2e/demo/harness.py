"""CaseCal as ``make demo`` runs it: the ``casecal demo`` command in a subprocess, on free
loopback ports, with a temporary data directory and no ``CASECAL_*`` variables at all (so no
``CASECAL_SECRET_KEYS``: the key file, as in the default install; the embedded scheduler; the
emulators and the mail catcher in their own process). The printed URLs and tokens are read
back from its output, as a newcomer reads them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from casecal.demo import DEMO_PASSWORD

START_TIMEOUT = 90.0
"""Migrating and seeding on a busy two-core machine takes a while."""
TOKEN_LINE = re.compile(r"^\s+(firm_admin|case_manager)\s.*?(\S+@\S+)\s+(cc_\S+)\s*$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningDemo:
    process: subprocess.Popen[str]
    url: str
    emulators_url: str
    data_dir: Path
    output: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    """The printed API token of each demo user, by email."""
    password: str = DEMO_PASSWORD

    @property
    def mail_url(self) -> str:
        return f"{self.emulators_url}/mail"

    def printed(self) -> str:
        return "".join(self.output)

    def emulator(self, method: str, path: str, body: Any = None) -> Any:
        """The emulators' own control surface (``/_emulator``), as a test's "other client"."""
        response = httpx.request(method, f"{self.emulators_url}{path}", json=body, timeout=10)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def api(self, email: str, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[email]}"}
        response = httpx.get(f"{self.url}/api/v1{path}", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def _pump(stream: IO[str], sink: list[str]) -> None:
    """Keep reading the demo's output so it never blocks on a full pipe."""
    for line in stream:
        sink.append(line)


def _demo_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECAL_")}
    env["COLUMNS"] = "200"  # Rich wraps the printed tables at the terminal's width
    env["HOME"] = str(tmp)
    return env


@contextmanager
def running_demo(tmp: Path) -> Iterator[RunningDemo]:
    """``casecal demo`` until the block ends, then Ctrl+C (SIGINT), as a person stops it."""
    port, emulator_port, smtp_port = free_port(), free_port(), free_port()
    data_dir = tmp / "demo"
    argv = [sys.executable, "-m", "casecal.cli", "demo", "--port", str(port),
            "--emulator-port", str(emulator_port), "--smtp-port", str(smtp_port),
            "--data-dir", str(data_dir)]  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=tmp, env=_demo_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    demo = RunningDemo(process, f"http://127.0.0.1:{port}",
                       f"http://127.0.0.1:{emulator_port}", data_dir)  # fmt: skip
    pump = threading.Thread(target=_pump, args=(process.stdout, demo.output), daemon=True)
    pump.start()
    try:
        _wait_until_serving(demo)
        for line in demo.printed().splitlines():
            if match := TOKEN_LINE.match(line):
                demo.tokens[match.group(2)] = match.group(3)
        yield demo
    finally:
        _stop(demo)
        pump.join(5)
        process.stdout.close()


def _wait_until_serving(demo: RunningDemo) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while "Serving." not in demo.printed():
        if demo.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"casecal demo did not start; it printed:\n{demo.printed()}")
        time.sleep(0.1)
    while True:
        try:
            if httpx.get(f"{demo.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"CaseCal never became ready:\n{demo.printed()}")
        time.sleep(0.1)


def _stop(demo: RunningDemo) -> None:
    process = demo.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the demo's own session: it and its child
            process.wait(timeout=10)
            raise AssertionError("casecal demo ignored Ctrl+C") from None
