"""The emulators in their own process over loopback (``casecal emulators --port P``), and the
bench's HTTP view of their ``/_emulator`` admin surface (request log, throttling, seeding)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ADMIN_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _casecal_command() -> list[str]:
    """The ``casecal`` script next to the running interpreter, else the module's entry point."""
    script = Path(sys.executable).parent / "casecal"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from casecal.cli import main; main()"]


class EmulatorProcess:
    """Starts ``casecal emulators`` on a free port; ``stop`` ends that one process."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, "CASECAL_LOG_LEVEL": "WARNING"}
        self._proc = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [*_casecal_command(), "emulators", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the emulators exited with {self._proc.returncode}")
            try:
                if httpx.get(f"{self.base}/", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulators did not answer on {self.base} in {timeout} s")

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class LoggedCall:
    method: str
    path: str
    status: int
    account: str | None


class Admin:
    """The ``/_emulator`` endpoints of one provider's emulator (``google`` or ``microsoft``)."""

    def __init__(self, client: httpx.AsyncClient, base: str, provider: str) -> None:
        self.client = client
        self.provider = provider
        self.root = f"{base}/{provider}"
        self.admin = f"{self.root}/_emulator"

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.client.request(
            method, f"{self.admin}{path}", json=body, timeout=ADMIN_TIMEOUT
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    async def clear_log(self) -> None:
        await self.call("DELETE", "/log")

    async def log(self, account: str | None = None) -> list[LoggedCall]:
        """Calls CaseCal made (admin and calendar-view paths left out), of ``account`` if set."""
        entries = await self.call("GET", "/log")
        calls = [
            LoggedCall(e["method"], e["path"], int(e["status"]), e.get("account"))
            for e in entries
            if not e["path"].startswith(("/_emulator", "/view"))
        ]
        if account is None:
            return calls
        return [c for c in calls if c.account is None or c.account.lower() == account.lower()]
