"""One owner of the ticket lifecycle, checked by reading the code (ast, nothing runs).

Two rules, each failing with `file:line: what` for every offence:

1. Only bot/tickets/repository.py writes the tables `tickets`, `ticket_history` and
   `conversations` (the lifecycle's state lives in `conversations.state`; an INSERT
   of a conversation sets it, so every write of the table counts). A write is an
   `insert(...)`, `update(...)` or `delete(...)` of one of them (or of a handle on
   one: `X = Ticket.__table__`, an alias, `sqlalchemy.table("tickets")`), the same
   as a method (`_TICKETS.update()`), a new ORM row (`Ticket(...)`), or an SQL
   string `INSERT INTO` / `UPDATE` / `DELETE FROM` one of them. Reads are anyone's.
   bot/migrations/ is history and is not scanned.

2. No bare state outside bot/tickets/states.py and bot/migrations/. The distinctive
   names ("queued", "with_agent", "assigned") are found wherever they stand as a
   whole string. The others ("open", "bot", "resolved", "closed", "online", "away",
   "offline") are ordinary words too (an action "resolved", a sender "bot", hours
   "closed"), so they are found only where they are a state:
   - compared with a `.state`/`.status` (or a `state`/`status` variable), with
     `==`, `!=`, `in`, `not in`, or inside `.in_(...)` of such a column;
   - passed as `state=`/`status=`, or as the value of a "state"/"status" key;
   - assigned to a name that says state or status (`state = ... else "bot"`,
     `QUEUED_STATUS = "open"`);
   - passed to a function whose name says state or status (`set_status(id, "away")`),
     also when the function is handed on (`to_thread(directory.set_status, id, "away")`).
   Not caught: a generic word passed positionally to a function that does not say
   what it is (`_close(..., "resolved", "bot")`): review catches those.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Set

import pytest

from bot.tickets import states

ROOT = Path(__file__).resolve().parent.parent
OWNER = Path("bot/tickets/repository.py")
STATES_MODULE = Path("bot/tickets/states.py")
NOT_SCANNED = (Path("bot/migrations"),)

OWNED_TABLES = ("tickets", "ticket_history", "conversations")
OWNED_CLASSES = ("Ticket", "TicketHistory", "Conversation")
WRITE_FUNCTIONS = ("insert", "update", "delete")

VOCABULARY: Set[str] = {
    *states.CONVERSATION_STATES,
    *states.TICKET_STATUSES,
    *states.AGENT_STATUSES,
}
# Never a word of anything else in this code base: caught wherever they stand.
DISTINCTIVE: Set[str] = {
    states.CONVERSATION_QUEUED,
    states.CONVERSATION_WITH_AGENT,
    states.TICKET_ASSIGNED,
}
# Ordinary words as well: caught only where they are a state (see the docstring).
GENERIC: Set[str] = VOCABULARY - DISTINCTIVE
STATE_ATTRIBUTES = ("state", "status")
_SQL_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(" + "|".join(OWNED_TABLES) + r")\b",
    re.IGNORECASE,
)


def _names_for(value: str) -> str:
    names = sorted(
        name
        for name, constant in vars(states).items()
        if name.isupper() and isinstance(constant, str) and constant == value
    )
    return " or ".join(f"bot.tickets.states.{name}" for name in names)


@dataclass(frozen=True)
class Offence:
    path: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: Path, tree: ast.Module, check_writes: bool, check_literals: bool):
        self.path = path
        self.check_writes = check_writes
        self.check_literals = check_literals
        self.offences: List[Offence] = []
        self.classes: Set[str] = set(OWNED_CLASSES)
        self.handles: Set[str] = set()
        self.writers: Set[str] = set(WRITE_FUNCTIONS)
        self._learn_names(tree)

    # --- what names mean in this module ---------------------------------------------

    def _learn_names(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name in OWNED_CLASSES and alias.asname:
                        self.classes.add(alias.asname)
                    if alias.name in WRITE_FUNCTIONS and alias.asname:
                        self.writers.add(alias.asname)
        # A handle on a handle (`_T = _TICKETS.alias()`) needs a second look.
        for _ in range(2):
            for node in ast.walk(tree):
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if self._is_owned(node.value):
                        for target in targets:
                            if isinstance(target, ast.Name):
                                self.handles.add(target.id)

    def _is_owned(self, node: ast.AST) -> bool:
        """Whether the expression is one of the owned tables (a class, a handle, an alias)."""
        if isinstance(node, ast.Name):
            return node.id in self.handles or node.id in self.classes
        if isinstance(node, ast.Attribute):
            return node.attr in OWNED_CLASSES or (
                node.attr == "__table__" and self._is_owned(node.value)
            )
        if isinstance(node, ast.Subscript):  # metadata.tables["tickets"]
            return isinstance(node.slice, ast.Constant) and node.slice.value in OWNED_TABLES
        if isinstance(node, ast.Call):
            if _called(node) in ("table", "Table"):
                return (
                    bool(node.args)
                    and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value in OWNED_TABLES
                )
            return (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "alias"
                and self._is_owned(node.func.value)
            )
        return False

    def _names_owned(self, part: ast.AST) -> bool:
        """An f-string's `{_TICKETS.name}` or `{_TICKETS}`."""
        value = part.value if isinstance(part, ast.FormattedValue) else part
        if isinstance(value, ast.Attribute) and value.attr in ("name", "fullname"):
            value = value.value
        return self._is_owned(value)

    def _report(self, node: ast.AST, what: str) -> None:
        self.offences.append(Offence(self.path, getattr(node, "lineno", 0), what))

    # --- rule 1: writes -------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        name = _called(node)
        if self.check_writes:
            if name in self.writers:
                if node.args and self._is_owned(node.args[0]):
                    self._report(node, f"{name} of {_source(node.args[0])}: {_OWNER_HINT}")
                elif isinstance(node.func, ast.Attribute) and self._is_owned(node.func.value):
                    self._report(node, f"{_source(node.func)}(): {_OWNER_HINT}")
            elif isinstance(node.func, ast.Name) and node.func.id in self.classes:
                self._report(node, f"a new {node.func.id} row: {_OWNER_HINT}")
        if self.check_literals:
            self._state_call(node, name)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            if self.check_writes and _SQL_WRITE.search(node.value):
                self._report(node, f"SQL that writes a ticket table: {_OWNER_HINT}")
            if self.check_literals and node.value in DISTINCTIVE:
                self._literal(node, node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        if self.check_writes:
            text = "".join(
                part.value
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
                else (OWNED_TABLES[0] if self._names_owned(part) else "?")
                for part in node.values
            )
            if _SQL_WRITE.search(text):
                self._report(node, f"SQL that writes a ticket table: {_OWNER_HINT}")
        self.generic_visit(node)

    # --- rule 2: states -------------------------------------------------------------

    def _literal(self, node: ast.AST, value: str) -> None:
        self._report(node, f"bare state {value!r}: use {_names_for(value)}")

    def _generic(self, node: ast.AST | None) -> None:
        """Report `node` if it is a generic state word (the distinctive ones are found anyway)."""
        if node is None:
            return
        if isinstance(node, ast.IfExp):
            self._generic(node.body)
            self._generic(node.orelse)
            return
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self._generic(value)
            return
        elements = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
        for element in elements:
            if (
                isinstance(element, ast.Constant)
                and isinstance(element.value, str)
                and element.value in GENERIC
            ):
                self._literal(element, element.value)

    def visit_Compare(self, node: ast.Compare) -> None:
        if self.check_literals:
            sides = [node.left, *node.comparators]
            if any(_is_state(side) for side in sides):
                for side in sides:
                    self._generic(side)
        self.generic_visit(node)

    def _state_call(self, node: ast.Call, name: str | None) -> None:
        if (
            name == "in_"
            and isinstance(node.func, ast.Attribute)
            and _is_state(node.func.value)
            and node.args
        ):
            self._generic(node.args[0])
        # A setter called, or handed on (`to_thread(directory.set_status, id, "away")`).
        setters = [name, *(_referenced(argument) for argument in node.args)]
        if any(setter and _says_state(setter) for setter in setters):
            for argument in node.args:
                self._generic(argument)
        for keyword in node.keywords:
            if keyword.arg in STATE_ATTRIBUTES:
                self._generic(keyword.value)

    def visit_Dict(self, node: ast.Dict) -> None:
        if self.check_literals:
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in STATE_ATTRIBUTES:
                    self._generic(value)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.check_literals and any(
            isinstance(target, ast.Name) and _says_state(target.id) for target in node.targets
        ):
            self._generic(node.value)
        self.generic_visit(node)


_OWNER_HINT = f"only {OWNER} writes tickets, ticket_history and conversations"


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _referenced(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _says_state(name: str) -> bool:
    """A name that says it holds or sets a state: `state`, `QUEUED_STATUS`, `set_status`."""
    return any(word in name.lower() for word in STATE_ATTRIBUTES)


def _is_state(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in STATE_ATTRIBUTES
    if isinstance(node, ast.Name):
        return node.id in STATE_ATTRIBUTES
    return False


def _source(node: ast.AST) -> str:
    return ast.unparse(node)


def scan(path: Path, source: str) -> List[Offence]:
    """Every offence against the two rules in one module (`path` relative to the repository)."""
    tree = ast.parse(source, filename=str(path))
    scanner = _Scanner(path, tree, check_writes=path != OWNER, check_literals=path != STATES_MODULE)
    scanner.visit(tree)
    return scanner.offences


def modules(package: str) -> Iterator[Path]:
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if not any(relative.is_relative_to(skipped) for skipped in NOT_SCANNED):
            yield relative


def offences(package: str) -> List[str]:
    return [
        str(offence)
        for path in modules(package)
        for offence in scan(path, (ROOT / path).read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize(
    "package",
    [
        "bot",
        "actions",
        "connectors",
    ],
)
def test_only_the_ticket_owner_writes_tickets_and_no_bare_state_appears(package: str) -> None:
    found = offences(package)
    assert not found, "\n".join(found)


def test_the_owner_and_the_states_module_are_where_the_test_looks() -> None:
    assert (ROOT / OWNER).is_file() and (ROOT / STATES_MODULE).is_file()
    assert DISTINCTIVE and DISTINCTIVE < VOCABULARY


# --- the scanner itself: what it must and must not report --------------------------

CAUGHT: Dict[str, str] = {
    "core update": "update(_TICKETS).values(team='x')",
    "core insert of a class": "insert(TicketHistory)",
    "core delete of a handle": "delete(_CONVERSATIONS)",
    "an alias of a handle": "_T = _TICKETS.alias()\nupdate(_T)",
    "a table by name": "update(table('tickets'))",
    "a method of the table": "Ticket.__table__.update()",
    "an aliased import": "from sqlalchemy import insert as sql_insert\nsql_insert(Ticket)",
    "a new ORM row": "session.add(Conversation(sender_id='x'))",
    "SQL text": "connection.exec_driver_sql('UPDATE tickets SET team = 1')",
    "SQL in an f-string": "f'INSERT INTO {_HISTORY.name} (at) VALUES (1)'",
    "a distinctive state anywhere": "x = ['queued']",
    "a state compared with a column": "_TICKETS.c.status == 'open'",
    "a state compared with a field": "if handoff.state != 'bot': pass",
    "a state in a tuple": "if agent.status in ('online', 'away'): pass",
    "a state in in_()": "_AGENTS.c.status.in_(['offline'])",
    "a state as a keyword": "update(_AGENTS).values(status='away')",
    "a state as a dict value": "payload = {'state': 'resolved'}",
    "a state constant": "QUEUED_STATUS = 'open'",
    "a state given to a setter": "directory.set_status(agent_id, 'online', now)",
    "a setter handed on": "to_thread(directory.set_status, agent_id, 'offline', now)",
    "a state variable": "state = handoff.state if handoff else 'bot'",
    "a state by default": "status = given or 'away'",
}
LEFT_ALONE: Dict[str, str] = {
    "a read": "select(_TICKETS.c.id).where(_TICKETS.c.team == 'x')",
    "a write of another table": "update(_CALLS).where(_CALLS.c.ticket_id == 1)",
    "a session's own delete": "session.delete(row)",
    "a dict built from a read": "row = select(_TICKETS)\nvalues = {}\nvalues.update(row)",
    "a generic word in another sense": "ACTOR_BOT = 'bot'\n{'sender': 'bot'}\nCLOSED = 'closed'",
    "an action name": "action = 'resolved'",
    "a word inside a sentence": "message = 'You are queued; an agent is assigned soon.'",
    "a named state": "_TICKETS.c.status == TICKET_OPEN",
}


# The handles modules take on the owned tables, as bot/desk/service.py does.
HANDLES = (
    "_TICKETS = Ticket.__table__\n"
    "_HISTORY = TicketHistory.__table__\n"
    "_CONVERSATIONS = Conversation.__table__\n"
)


@pytest.mark.parametrize("source", CAUGHT.values(), ids=CAUGHT.keys())
def test_the_scanner_reports(source: str) -> None:
    assert scan(Path("bot/example.py"), HANDLES + source)


@pytest.mark.parametrize("source", LEFT_ALONE.values(), ids=LEFT_ALONE.keys())
def test_the_scanner_leaves_alone(source: str) -> None:
    assert scan(Path("bot/example.py"), HANDLES + source) == []


def test_the_owner_may_write_and_the_states_module_may_spell_states() -> None:
    assert scan(OWNER, HANDLES + "update(_TICKETS).values(team='x')") == []
    assert scan(STATES_MODULE, "CONVERSATION_QUEUED = 'queued'\nTICKET_OPEN = 'open'") == []
    assert scan(OWNER, "_TICKETS.c.status == 'open'")  # the owner names its states too


def test_an_offence_names_its_file_and_line_and_the_name_to_use() -> None:
    (offence,) = scan(Path("bot/example.py"), "x = 1\nif row.state == 'with_agent': pass")
    assert str(offence) == (
        "bot/example.py:2: bare state 'with_agent': use bot.tickets.states.CONVERSATION_WITH_AGENT"
    )
