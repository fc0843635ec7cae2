"""CaseCal's files on disk are its owner's only: the data directory 0700, the SQLite database
and its ``-wal`` / ``-shm`` / ``-journal`` files 0600 (like the token key file), whatever the
umask. Missing ones are created so; CaseCal's own looser ones are tightened. A directory that
is not CaseCal's (``/tmp`` for a database at ``/tmp/casecal.db``) is never changed: it would
lose its sticky bit, or others their access; a warning says when others may write to it."""

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


def _make_missing(path: Path) -> bool:
    """Make ``path`` and the parents it needs, each 0700; True when ``path`` was missing."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            directory.mkdir(PRIVATE_DIR)
        _tighten(directory, PRIVATE_DIR)
    return bool(missing)


def private_dir(path: Path) -> None:
    """``path`` (a directory that is CaseCal's) exists and is 0700; the parents it needed are
    made 0700 too, existing parents are left as they are."""
    _make_missing(path)
    _tighten(path, PRIVATE_DIR)


def _warn_if_shared(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        log.warning(
            "the database's directory is writable by others and not CaseCal's to change",
            path=str(path),
            mode=oct(mode),
        )


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


def _same_dir(one: Path, other: Path) -> bool:
    try:
        return one.samefile(other)
    except OSError:
        return False


def secure_sqlite(database_url: str, *, data_dir: Path | None = None) -> None:
    """Before SQLite opens it: the database file and any side files 0600, its directory 0700
    when CaseCal makes it or it is ``data_dir`` (the default install); another directory that
    exists already is left as it is. A no-op for other databases."""
    path = sqlite_path(database_url)
    if path is None:
        return
    directory = path.parent
    if _make_missing(directory) or (data_dir is not None and _same_dir(directory, data_dir)):
        _tighten(directory, PRIVATE_DIR)
    else:
        _warn_if_shared(directory)
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
    secure_sqlite(settings.database_url, data_dir=data_dir)
