"""Which database objects are ours: tables of the job queue share the database but are not in
our models, so migrations neither compare nor drop them."""

from __future__ import annotations

FOREIGN_PREFIXES = ("procrastinate_",)


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's ``include_name`` hook: skip tables we do not own."""
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_PREFIXES))
