"""The layers import in one direction (README, "Architecture").

Every module under ``src/casecal`` is read with ``ast`` (nothing is imported), and each of its
imports is checked against the rules below: at module level, inside functions, and under
``if TYPE_CHECKING:`` alike, relative imports resolved, and ``importlib.import_module`` /
``__import__`` calls with a literal name counted too. A new module that imports against the
drawing fails here, naming the module, the line and the rule.

    layer               must not import                      why
    ------------------  -----------------------------------  ----------------------------------
    casecal.sync        casecal.services, casecal.web         the services and the web call the
                                                              sync layer; it never calls back up
    casecal.providers   casecal.sync, casecal.services,       an adapter speaks one provider's
                        casecal.web, casecal.store            HTTP; passes and storage are above it
    casecal.domain      casecal.store, .providers, .sync,     pure decisions: no I/O, so they are
                        .services, .web, .auth, .emulators,   tested fast and alone (hypothesis)
                        .config, .cli*, .demo*, .mailcatcher;
                        sqlalchemy, alembic, httpx, asyncio,
                        anyio, database and web libraries
    casecal.store       casecal.services, casecal.web,        tables and queries serve the layers
                        casecal.sync                          above without knowing them
    casecal.auth        casecal.services, casecal.web,        the protocol work the connect flow
                        casecal.sync                          and the engine share
    casecal.services    casecal.web                           the use cases the REST API, the UI
                                                              and the CLI share
    casecal.web         sqlalchemy (all but                   every read and write goes through
                        sqlalchemy.ext.asyncio, the type of   the services, with their tenant
                        the session the dependencies pass)    scoping; the web builds no query

The web layer is also read for calls on a database session (``session.get``, ``.scalar``,
``.scalars``, ``.execute`` and the other query and write methods, on a parameter typed as a
session or engine, a name bound by ``with``/``async with``, or any name ``session``): none is
made there; committing or rolling back the request's transaction stays the web's.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

_IO_LIBRARIES = (
    "sqlalchemy", "alembic", "httpx", "requests", "urllib3", "asyncio", "anyio", "aiosqlite",
    "asyncpg", "psycopg", "psycopg2", "procrastinate", "fastapi", "starlette", "uvicorn",
    "aiosmtplib", "aiosmtpd", "authlib", "socket", "subprocess",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    layer: str
    forbidden: tuple[str, ...]
    why: str
    excepted: tuple[str, ...] = ()
    """Parts of a forbidden package the layer may import all the same."""


RULES = (
    Rule("casecal.sync", ("casecal.services", "casecal.web"),
         "the services and the web call the sync layer; it never calls back up"),
    Rule("casecal.providers", ("casecal.sync", "casecal.services", "casecal.web", "casecal.store"),
         "an adapter speaks one provider's HTTP; passes and storage are above it"),
    Rule("casecal.domain",
         ("casecal.store", "casecal.providers", "casecal.sync", "casecal.services",
          "casecal.web", "casecal.auth", "casecal.emulators", "casecal.config", "casecal.cli",
          "casecal.cli_users", "casecal.demo", "casecal.demo_stack", "casecal.mailcatcher",
          *_IO_LIBRARIES),
         "pure decisions: no I/O, so they are tested fast and alone"),
    Rule("casecal.store", ("casecal.services", "casecal.web", "casecal.sync"),
         "tables and queries serve the layers above without knowing them"),
    Rule("casecal.auth", ("casecal.services", "casecal.web", "casecal.sync"),
         "the protocol work the connect flow and the engine share"),
    Rule("casecal.services", ("casecal.web",),
         "the use cases the REST API, the UI and the CLI share"),
    Rule("casecal.web", ("sqlalchemy",),
         "every read and write goes through the services, with their tenant scoping; the web "
         "passes the session along (its type, sqlalchemy.ext.asyncio) but builds no query",
         excepted=("sqlalchemy.ext.asyncio",)),
)  # fmt: skip

ALLOWED: dict[tuple[str, str], str] = {}
"""(module, forbidden package) pairs let through for now, each with its reason; empty when
the drawing holds everywhere."""


@dataclass(frozen=True)
class Found:
    module: str
    line: int
    target: str


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[Found]:
    """Every module ``source`` imports, wherever the import statement stands."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[Found] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Found(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.append(Found(module, node.lineno, origin))
            # ``from casecal import services`` imports the package ``casecal.services``
            found += [Found(module, node.lineno, f"{origin}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            first = node.args[0]
            assert isinstance(first, ast.Constant)
            found.append(Found(module, node.lineno, str(first.value)))
    return found


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (
        name in {"import_module", "__import__"}
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def violations(rule: Rule, found: list[Found]) -> list[Found]:
    return [
        imp
        for imp in found
        if _within(imp.module, rule.layer)
        and any(_within(imp.target, bad) for bad in rule.forbidden)
        and not any(_within(imp.target, ok) for ok in rule.excepted)
        and not any(
            module == imp.module and _within(imp.target, allowed) for module, allowed in ALLOWED
        )
    ]


def _all_imports() -> list[Found]:
    found: list[Found] = []
    for path in sorted((SRC / "casecal").rglob("*.py")):
        found += imports_of(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.layer)
def test_imports_follow_the_layers(rule: Rule) -> None:
    wrong = violations(rule, _all_imports())
    statements = {(imp.module, imp.line): imp.target for imp in reversed(wrong)}  # first name
    lines = [
        f"  {module}:{line} imports {target}"
        for (module, line), target in sorted(statements.items())
    ]
    assert not wrong, f"{rule.layer} must not import {rule.forbidden} ({rule.why}):\n" + "\n".join(
        lines
    )


def test_every_layer_of_a_rule_exists() -> None:
    """A renamed package must not leave a rule checking nothing."""
    for rule in RULES:
        assert (SRC / Path(*rule.layer.split("."))).is_dir(), rule.layer


def test_every_allowance_is_still_needed() -> None:
    """An allowance left after its import is gone would hide the next wrong import."""
    found = _all_imports()
    unused = [
        (module, allowed)
        for module, allowed in ALLOWED
        if not any(imp.module == module and _within(imp.target, allowed) for imp in found)
    ]
    assert not unused, unused


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("casecal.sync.example", "from casecal.services import outbox\n"),
        ("casecal.sync.example", "import casecal.web.app\n"),
        ("casecal.sync.example", "from casecal import services\n"),
        ("casecal.sync.example", "from ..services.outbox import record\n"),
        (
            "casecal.sync.example",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from casecal.services.entitlements import Effects\n",
        ),
        ("casecal.sync.example", "def later():\n    from casecal.web import deps\n"),
        ("casecal.sync.example", "import importlib\nimportlib.import_module('casecal.web.app')\n"),
        ("casecal.domain.example", "import sqlalchemy.orm\n"),
        ("casecal.domain.example", "from httpx import AsyncClient\n"),
        ("casecal.domain.example", "from casecal.store.tables import Link\n"),
        ("casecal.providers.example", "from casecal.sync.engine import SyncEngine\n"),
        ("casecal.store.example", "from casecal.sync.outbox_rows import record\n"),
        ("casecal.web.example", "from sqlalchemy import select\n"),
        ("casecal.web.ui.example", "import sqlalchemy\n"),
        ("casecal.web.example", "from sqlalchemy.orm import selectinload\n"),
        ("casecal.web.example", "def later():\n    from sqlalchemy import update\n"),
    ],
)
def test_the_check_sees_each_way_of_importing(module: str, source: str) -> None:
    found = imports_of(source, module)
    assert any(violations(rule, found) for rule in RULES), source


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("casecal.sync.example", "from casecal.sync.outbox_rows import record\n"),
        ("casecal.sync.example", "from . import outbox_rows\n"),
        ("casecal.services.example", "from casecal.sync.engine import SyncEngine\n"),
        ("casecal.domain.example", "from casecal.domain.entitlement import PAUSED\n"),
        ("casecal.domain.example", "import zoneinfo\nfrom casecal.errors import Conflict\n"),
        ("casecal.web.example", "from casecal.services import audit\n"),
        ("casecal.web.example", "from sqlalchemy.ext.asyncio import AsyncSession\n"),
        ("casecal.web.example", "import sqlalchemy.ext.asyncio\n"),
        ("casecal.services.example", "from sqlalchemy import select\n"),
        ("casecal.synchrony", "from casecal.services import audit\n"),  # not the sync layer
    ],
)
def test_the_check_lets_the_drawn_directions_through(module: str, source: str) -> None:
    found = imports_of(source, module)
    assert not any(violations(rule, found) for rule in RULES), source


# The web layer makes no calls on a database session ---------------------------------------

SESSION_TYPES = ("AsyncSession", "SessionDep", "AsyncConnection", "AsyncEngine", "Session")
SESSION_METHODS = frozenset({
    "get", "get_one", "scalar", "scalars", "execute", "stream", "stream_scalars",
    "add", "add_all", "delete", "merge", "flush", "refresh",
})  # fmt: skip

ALLOWED_SESSION_CALLS: dict[str, str] = {}
"""Web modules let through for now, each with its reason; empty when every read and write of
the web layer goes through a service."""


def session_calls(source: str, module: str) -> list[Found]:
    """Every ``NAME.method(...)`` of ``SESSION_METHODS`` on a name that holds a session: a
    parameter typed as one, a name bound by ``with``/``async with``, or ``session``."""
    tree = ast.parse(source)
    names = {"session"}
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            if set(re.findall(r"\w+", ast.unparse(node.annotation))) & set(SESSION_TYPES):
                names.add(node.arg)
        elif isinstance(node, ast.With | ast.AsyncWith):
            names |= {
                i.optional_vars.id for i in node.items if isinstance(i.optional_vars, ast.Name)
            }
    return [
        Found(module, node.lineno, f"{node.func.value.id}.{node.func.attr}")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SESSION_METHODS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in names
    ]


def _web_session_calls() -> list[Found]:
    found: list[Found] = []
    for path in sorted((SRC / "casecal" / "web").rglob("*.py")):
        found += session_calls(path.read_text(encoding="utf-8"), module_name(path))
    return found


def test_the_web_reads_and_writes_through_the_services() -> None:
    wrong = [f for f in _web_session_calls() if f.module not in ALLOWED_SESSION_CALLS]
    lines = [f"  {f.module}:{f.line} calls {f.target}" for f in wrong]
    assert not wrong, (
        "casecal.web makes no query itself (a service does it, scoped to the actor's firm):\n"
        + "\n".join(lines)
    )


def test_every_session_call_allowance_is_still_needed() -> None:
    calling = {f.module for f in _web_session_calls()}
    assert not [module for module in ALLOWED_SESSION_CALLS if module not in calling]


@pytest.mark.parametrize(
    "source",
    [
        "async def f(session: SessionDep):\n    return await session.get(User, 1)\n",
        "async def f(db: AsyncSession):\n    await db.execute(q)\n",
        "async def f(db: 'AsyncSession | None'):\n    await db.scalars(q)\n",
        "async def f(app):\n    async with app.state.sessionmaker() as s, s.begin():\n"
        "        await s.scalar(q)\n",
        "async def f(engine: AsyncEngine):\n    async with engine.connect() as conn:\n"
        "        await conn.execute(q)\n",
        "def f(session):\n    session.add(row)\n",
    ],
)
def test_the_session_check_sees_a_query(source: str) -> None:
    assert session_calls(source, "casecal.web.example"), source


@pytest.mark.parametrize(
    "source",
    [
        "def f(values: dict[str, str]):\n    return values.get('x')\n",
        "async def f(session: SessionDep):\n    await entry_data.update(session, actor, 1)\n",
        "async def f(session: SessionDep):\n    await session.commit()\n",
        "def f(request):\n    return request.query_params.get('next')\n",
        "async def f(signed: CurrentWebSession):\n    return signed.get('x')\n",
    ],
)
def test_the_session_check_lets_other_calls_through(source: str) -> None:
    assert not session_calls(source, "casecal.web.example"), source
