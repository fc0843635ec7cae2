"""The command line for real: `casecal demo` serves an API that answers with the printed token,
and `casecal firm create` prints usable JSON."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CASECAL = [sys.executable, "-m", "casecal.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECAL_")}
    env["CASECAL_DATA_DIR"] = str(tmp_path / "data")
    env["COLUMNS"] = "200"
    return env


def test_demo_serves_the_api_with_the_printed_token(tmp_path: Path) -> None:
    port, emulator_port, smtp_port = _free_port(), _free_port(), _free_port()
    proc = subprocess.Popen(
        [
            *CASECAL,
            "demo",
            "--port",
            str(port),
            "--emulator-port",
            str(emulator_port),
            "--smtp-port",
            str(smtp_port),
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        printed = ""
        deadline = time.monotonic() + 60
        while "API:  curl" not in printed and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            printed += line
        match = re.search(r"Bearer (cc_[A-Za-z0-9_-]+)", printed)
        assert match, f"no token printed; output was:\n{printed}"
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        response = httpx.get(
            f"{base}/api/v1/court-dates",
            headers={"Authorization": f"Bearer {match.group(1)}"},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == 3
        unauthorised = httpx.get(f"{base}/api/v1/court-dates", timeout=5)
        assert unauthorised.status_code == 401
        assert httpx.get(f"{base}/login", timeout=5).status_code == 200
        emulators = f"http://127.0.0.1:{emulator_port}"
        assert httpx.get(f"{emulators}/microsoft/view/", timeout=5).status_code == 200
        assert "casecal-demo" in printed  # the sign-in password is printed
        assert f"{emulators}/mail" in printed
        assert httpx.get(f"{emulators}/mail", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    # The emulators ran in a child process of the demo's, and stopped with it.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{emulator_port}/", timeout=2)


def test_demo_refuses_ports_in_use_before_touching_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        result = subprocess.run(
            [*CASECAL, "demo", "--port", str(busy), "--emulator-port", str(_free_port()),
             "--smtp-port", str(_free_port()), "--data-dir", str(tmp_path / "demo")],
            capture_output=True, text=True, env=_env(tmp_path), timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"Port(s) {busy} already in use" in result.stderr
    assert not (tmp_path / "demo").exists()


def test_firm_create_prints_ids_and_a_working_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CASECAL, "firm", "create", "--name", "Acme Law", "--admin-email", "boss@acme.example"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=True,
    )
    created = json.loads(result.stdout)
    assert set(created) == {"firm_id", "admin_user_id", "api_token"}
    assert created["api_token"].startswith("cc_")
    again = subprocess.run(
        [*CASECAL, "firm", "create", "--name", "Other", "--admin-email", "boss@acme.example"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
    )
    assert again.returncode == 0, again.stderr  # emails are unique per firm, not across firms
    assert json.loads(again.stdout)["firm_id"] != created["firm_id"]


def test_emulators_command_serves_both_emulators_and_their_views(tmp_path: Path) -> None:
    port = _free_port()
    with subprocess.Popen(
        [*CASECAL, "emulators", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(tmp_path),
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    index = httpx.get(base, timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert "Google Calendar (emulated)" in index.text
            assert httpx.get(f"{base}/google/view/", timeout=5).status_code == 200
            assert httpx.get(f"{base}/microsoft/view/", timeout=5).status_code == 200
            google = httpx.get(f"{base}/google/.well-known/openid-configuration", timeout=5)
            assert google.json()["token_endpoint"] == f"{base}/google/token"
            graph = httpx.get(f"{base}/microsoft/v1.0/me", timeout=5)
            assert graph.status_code == 401  # a real Graph endpoint, asking for a token
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_the_emulators_stop_when_the_demo_is_killed(tmp_path: Path) -> None:
    """Even a demo killed outright (no clean-up) leaves no emulators process behind."""
    port, emulator_port, smtp_port = _free_port(), _free_port(), _free_port()
    emulators = f"http://127.0.0.1:{emulator_port}/"
    argv = [*CASECAL, "demo", "--port", str(port), "--emulator-port", str(emulator_port),
            "--smtp-port", str(smtp_port), "--data-dir", str(tmp_path / "demo")]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(tmp_path),
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(emulators, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(emulators, timeout=5).status_code == 200
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        stopped = False
        while not stopped and time.monotonic() < deadline:
            try:
                httpx.get(emulators, timeout=1)
                time.sleep(0.2)
            except httpx.TransportError:
                stopped = True
        assert stopped, "the emulators process outlived the demo"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the demo's own session, if anything is left
