"""Private files and directories, whatever the umask: made 0700 / 0600, tightened when looser,
and only CaseCal's own (a parent that existed before is left alone)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from casecal.config import Settings
from casecal.store.private_files import (
    private_dir,
    private_file,
    secure_data_dir,
    secure_sqlite,
    sqlite_path,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_private_dir_makes_missing_ones_private_and_leaves_existing_parents(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    target = tmp_path / "a" / "b"
    private_dir(target)
    assert (_mode(target), _mode(target.parent)) == (0o700, 0o700)
    assert _mode(tmp_path) == 0o755  # existed before: not ours to change
    target.chmod(0o775)
    private_dir(target)
    assert _mode(target) == 0o700


def test_private_file_creates_or_tightens_and_keeps_content(tmp_path: Path) -> None:
    made = tmp_path / "new"
    private_file(made)
    assert _mode(made) == 0o600
    kept = tmp_path / "kept"
    kept.write_text("data")
    kept.chmod(0o644)
    private_file(kept)
    assert (_mode(kept), kept.read_text()) == (0o600, "data")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:///data/casecal.db", Path("data/casecal.db")),
        ("sqlite+aiosqlite:////srv/casecal/casecal.db", Path("/srv/casecal/casecal.db")),
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///:memory:", None),
        ("postgresql+asyncpg://u@localhost/casecal", None),
    ],
)
def test_sqlite_path(url: str, expected: Path | None) -> None:
    assert sqlite_path(url) == expected


def test_secure_sqlite_tightens_side_files(tmp_path: Path) -> None:
    database = tmp_path / "db" / "casecal.db"
    secure_sqlite(f"sqlite+aiosqlite:///{database}")
    assert (_mode(database.parent), _mode(database)) == (0o700, 0o600)
    side = database.with_name("casecal.db-journal")
    side.touch(0o666)
    secure_sqlite(f"sqlite+aiosqlite:///{database}")
    assert _mode(side) == 0o600


def test_secure_data_dir_is_made_only_when_used(tmp_path: Path) -> None:
    unused = tmp_path / "unused"
    postgres = "postgresql+asyncpg://u@localhost/casecal"
    secure_data_dir(Settings(data_dir=unused, database_url=postgres, secret_keys=["k"]))
    assert not unused.exists()
    key_home = tmp_path / "keys"  # no secret keys: the key file lives here
    secure_data_dir(Settings(data_dir=key_home, database_url=postgres, secret_keys=[]))
    assert _mode(key_home) == 0o700


def test_an_existing_shared_parent_of_the_database_is_left_alone(tmp_path: Path) -> None:
    """A database URL at /tmp/casecal.db used to chmod /tmp to 0700, dropping its sticky bit."""
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    database = shared / "casecal.db"
    with capture_logs() as logs:
        secure_sqlite(f"sqlite+aiosqlite:///{database}")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert _mode(database) == 0o600
    assert [entry["path"] for entry in logs if entry["log_level"] == "warning"] == [str(shared)]
    home = tmp_path / "home"  # not writable by others: left alone, no warning
    home.mkdir(0o755)
    home.chmod(0o755)
    with capture_logs() as logs:
        secure_sqlite(f"sqlite+aiosqlite:///{home / 'casecal.db'}")
    assert (_mode(home), logs) == (0o755, [])


def test_the_data_dir_holding_the_database_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o777)
    url = f"sqlite+aiosqlite:///{data_dir / 'casecal.db'}"
    secure_data_dir(Settings(data_dir=data_dir, database_url=url, secret_keys=["k"]))
    assert (_mode(data_dir), _mode(data_dir / "casecal.db")) == (0o700, 0o600)
    data_dir.chmod(0o777)
    secure_sqlite(url, data_dir=data_dir)
    assert _mode(data_dir) == 0o700
