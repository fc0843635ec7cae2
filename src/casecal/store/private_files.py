"""CaseCal's files on disk are its owner's only: the data directory 0700, the SQLite database
and its ``-wal`` / ``-shm`` / ``-journal`` files 0600 (like the token key file), whatever the
umask. Missing ones are created so; existing looser ones are tightened."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

from casecal.config import Settings

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
"""SQLite gives these its database file's mode when it creates them; older ones are tightened."""

log = structlog.get_logger("casecal.files")


def _tighten(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)
    except PermissionError as exc:  # not ours (a shared mount): say so, do not stop
        log.warning("cannot make private", path=str(path), error=str(exc))


def private_dir(path: Path) -> None:
    """``path`` exists and is 0700; the parents it needed are made 0700 too, existing parents
    are left as they are."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            directory.mkdir(PRIVATE_DIR)
        _tighten(directory, PRIVATE_DIR)
    _tighten(path, PRIVATE_DIR)


def private_file(path: Path) -> None:
    """``path`` exists (empty if it did not) and is 0600; its content is left alone."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    _tighten(path, PRIVATE_FILE)


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; ``None`` for other databases and in-memory ones."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    name = url.database or ""
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def secure_sqlite(database_url: str) -> None:
    """Before SQLite opens it: the database's directory (CaseCal's data directory in the
    default install) 0700, the database file and any side files 0600. A no-op elsewhere."""
    path = sqlite_path(database_url)
    if path is None:
        return
    private_dir(path.parent)
    private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            _tighten(side, PRIVATE_FILE)


def secure_data_dir(settings: Settings) -> None:
    """The data directory 0700 when CaseCal keeps anything there: the SQLite database, or the
    token key file when no ``CASECAL_SECRET_KEYS`` are set; tightened whenever it exists."""
    data_dir = settings.data_dir
    if settings.is_sqlite or not settings.secret_keys or data_dir.exists():
        private_dir(data_dir)
    secure_sqlite(settings.database_url)
