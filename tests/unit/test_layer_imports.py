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
"""

from __future__ import annotations

import ast
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
        ("casecal.synchrony", "from casecal.services import audit\n"),  # not the sync layer
    ],
)
def test_the_check_lets_the_drawn_directions_through(module: str, source: str) -> None:
    found = imports_of(source, module)
    assert not any(violations(rule, found) for rule in RULES), source
