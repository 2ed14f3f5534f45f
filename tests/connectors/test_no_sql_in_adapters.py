"""No SQL in the adapters: connectors/ and actions/ call bot/, which alone talks to the database.

Every module under connectors/ and actions/ is parsed (never imported) and searched
for what runs SQL: SQLAlchemy's statement builders (`select`, `insert`, `update`,
`delete`, `text`, however imported) and the calls that send a statement or a unit
of work (`.execute(`, `.exec_driver_sql(`, `.query(`, `.add_all(`). Importing
SQLAlchemy for its exceptions or types is fine. A finding names `file:line`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTER_PACKAGES = ("connectors", "actions")
STATEMENT_BUILDERS = frozenset({"select", "insert", "update", "delete", "text"})
# Submodules that hold the builders too (`from sqlalchemy import sql; sql.select(...)`).
SQL_SUBMODULES = frozenset({"sql", "expression"})
# Methods of a connection, a session or an engine that send SQL to the database.
SQL_RUNNING_METHODS = frozenset({"execute", "exec_driver_sql", "query", "add_all"})


def sql_uses(source: str, filename: str) -> List[str]:
    """Every place a module's source builds or runs SQL, as `file:line: what`."""
    tree = ast.parse(source, filename=filename)
    module_aliases: Set[str] = set()  # names bound to sqlalchemy or one of its submodules
    builder_aliases: Set[str] = set()  # names bound to a statement builder
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sqlalchemy(alias.name):
                    module_aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and _is_sqlalchemy(node.module):
            for alias in node.names:
                if alias.name in STATEMENT_BUILDERS:
                    builder_aliases.add(alias.asname or alias.name)
                elif alias.name in SQL_SUBMODULES:
                    module_aliases.add(alias.asname or alias.name)
    found: List[Tuple[int, str]] = []
    for call in _calls(tree):
        function = call.func
        if isinstance(function, ast.Name) and function.id in builder_aliases:
            found.append((call.lineno, f"{filename}:{call.lineno}: sqlalchemy {function.id}()"))
        elif isinstance(function, ast.Attribute):
            if function.attr in STATEMENT_BUILDERS and _root_name(function) in module_aliases:
                found.append(
                    (call.lineno, f"{filename}:{call.lineno}: sqlalchemy {function.attr}()")
                )
            elif function.attr in SQL_RUNNING_METHODS:
                found.append(
                    (call.lineno, f"{filename}:{call.lineno}: .{function.attr}(...) runs SQL")
                )
    return [finding for _, finding in sorted(found)]


def _is_sqlalchemy(module: str) -> bool:
    return module == "sqlalchemy" or module.startswith("sqlalchemy.")


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def adapter_modules() -> List[Path]:
    return sorted(path for package in ADAPTER_PACKAGES for path in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("module", adapter_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_an_adapter_module_runs_no_sql(module: Path):
    relative = str(module.relative_to(ROOT))
    assert sql_uses(module.read_text(encoding="utf-8"), relative) == []


def test_the_adapters_are_all_searched():
    searched = {str(path.relative_to(ROOT)) for path in adapter_modules()}
    # A package turned into a directory (connectors/webchat/, connectors/desk/) is searched too.
    assert "connectors/webchat/channel.py" in searched
    assert "actions/handoff.py" in searched
    assert "connectors/token_scrub.py" in searched


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import sqlalchemy as sa\nsa.select(t)\n", ["m.py:2: sqlalchemy select()"]),
        ("import sqlalchemy\nsqlalchemy.text('x')\n", ["m.py:2: sqlalchemy text()"]),
        ("from sqlalchemy import delete\ndelete(t)\n", ["m.py:2: sqlalchemy delete()"]),
        ("from sqlalchemy import insert as ins\nins(t)\n", ["m.py:2: sqlalchemy ins()"]),
        ("from sqlalchemy.sql import update\nupdate(t)\n", ["m.py:2: sqlalchemy update()"]),
        ("from sqlalchemy import sql\nsql.expression.select(t)\n", ["m.py:2: sqlalchemy select()"]),
        ("connection.execute(statement)\n", ["m.py:1: .execute(...) runs SQL"]),
        ("engine.connect().exec_driver_sql('x')\n", ["m.py:1: .exec_driver_sql(...) runs SQL"]),
        ("session.query(Event).all()\n", ["m.py:1: .query(...) runs SQL"]),
        ("session.add_all(rows)\n", ["m.py:1: .add_all(...) runs SQL"]),
        # Fine: SQLAlchemy's exceptions, and words that are builders' names elsewhere.
        ("from sqlalchemy.exc import SQLAlchemyError\n", []),
        ("state.update(session_id=1)\nitems.insert(0, x)\nresponse.text('ok')\n", []),
        ("def select(x): ...\nselect(1)\n", []),
    ],
)
def test_the_search_finds_sql_however_it_is_written(source: str, expected: List[str]):
    assert sql_uses(source, "m.py") == expected
