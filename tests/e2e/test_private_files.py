"""CaseCal's files are its owner's only, whatever the umask: after the real `casecal migrate`,
`casecal serve` and `casecal demo`'s set-up, nothing in the data directory (the directory, the
SQLite database and its side files, the key file) has a group or world permission bit, and a
looser directory or database left from before is tightened."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

CASECAL = str(Path(sys.executable).parent / "casecal")
"""The installed console script, as an operator runs it."""
LOOSE_UMASK = "000"
"""The worst umask: without CaseCal's own modes, everything would be created world-writable."""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECAL_")}
    env["CASECAL_DATA_DIR"] = str(data_dir)  # the default install otherwise: no secret keys
    env["COLUMNS"] = "200"
    return env


def _command(*args: str) -> list[str]:
    """``casecal <args>`` under the loosest umask."""
    return ["sh", "-c", f'umask {LOOSE_UMASK} && exec "$0" "$@"', CASECAL, *args]


def _run(data_dir: Path, *args: str) -> None:
    done = subprocess.run(
        _command(*args), env=_env(data_dir), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def not_shared(data_dir: Path) -> dict[str, str]:
    """Every path under (and including) ``data_dir`` whose mode lets group or others in."""
    found = {}
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found[str(path.relative_to(data_dir.parent))] = oct(mode)
    return found


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_migrate_makes_a_private_data_dir_and_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "casecal"  # neither exists yet
    _run(data_dir, "migrate")
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir.parent) == 0o700  # made for it, so made private too
    assert _mode(data_dir / "casecal.db") == 0o600
    assert not_shared(data_dir) == {}


def test_migrate_tightens_a_loose_existing_install(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _run(data_dir, "migrate")
    database = data_dir / "casecal.db"
    wal = data_dir / "casecal.db-wal"
    wal.touch()  # an empty write-ahead log, as an earlier process may leave one
    for path, mode in ((data_dir, 0o777), (database, 0o666), (wal, 0o644)):
        path.chmod(mode)
    _run(data_dir, "migrate")
    assert not_shared(data_dir) == {}
    assert _mode(data_dir) == 0o700
    assert _mode(database) == 0o600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_keeps_everything_private_while_it_writes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    port = _free_port()
    proc = subprocess.Popen(
        _command("serve", "--port", str(port)),
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "casecal serve stopped"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "casecal serve did not become ready"
            time.sleep(0.2)
        # written while serving: the key file, the database's -wal and -shm
        assert (data_dir / "token-encryption.key").exists()
        assert (data_dir / "casecal.db-wal").exists()
        assert not_shared(data_dir) == {}
    finally:
        proc.terminate()
        proc.wait(30)
    assert not_shared(data_dir) == {}


def test_demo_set_up_is_private(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    _run(tmp_path / "unused", "demo", "--seed-only", "--data-dir", str(demo_dir))
    assert (demo_dir / "casecal.db").exists()
    assert _mode(demo_dir) == 0o700
    assert not_shared(demo_dir) == {}


def test_migrate_leaves_a_shared_directory_of_the_database_alone(tmp_path: Path) -> None:
    """A database at /tmp/casecal.db: /tmp is not CaseCal's, and keeps its mode (sticky bit)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    database = shared / "casecal.db"
    env = _env(tmp_path / "data")
    env["CASECAL_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    done = subprocess.run(_command("migrate"), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert _mode(database) == 0o600
    assert "not CaseCal's to change" in done.stdout + done.stderr
