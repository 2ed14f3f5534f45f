"""Where `bot export-review` reads conversations from: Baton's tickets and Rasa's tracker store.

- Escalated conversations: the tickets opened in the period (Baton's database,
  `DATABASE_URL`), with their reference, reasons, priority and team.
- Failed conversations: those with a turn the bot did not understand (`nlu_fallback`),
  judged out of scope (`out_of_scope`) or fell back on (`action_default_fallback`) in the
  period, read from Rasa's SQL tracker store: endpoints.yml's `tracker_store`, table
  `events(sender_id, type_name, timestamp, intent_name, action_name, data)`.

Both are read-only: nothing here writes to either database.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Sequence
from urllib.parse import urlsplit

from sqlalchemy import column, create_engine, func, or_, select, table
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.constants import INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE
from bot.db import make_engine, make_session_factory
from bot.store.models import Conversation, Ticket

# Turns that show the bot failed the customer.
FAILURE_INTENTS = (INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE)
FAILURE_ACTIONS = ("action_default_fallback",)
# Rasa's SQL tracker store and the columns read here.
EVENTS = table(
    "events",
    column("id"),
    column("sender_id"),
    column("type_name"),
    column("timestamp"),
    column("intent_name"),
    column("action_name"),
    column("data"),
)
ENDPOINTS_FILE = "endpoints.yml"
_SQL_TYPES = ("sql",)


class SourceUnavailable(Exception):
    """A database cannot be read; the message says which and what to do."""


@dataclass(frozen=True)
class EscalatedTicket:
    """A ticket opened in the period, as the review needs it."""

    reference: str
    sender_id: str
    created_at: dt.datetime
    priority: str
    team: str
    status: str
    reasons: List[str]
    transcript: List[Dict[str, Any]]


@dataclass(frozen=True)
class FailedConversation:
    """A conversation with failed turns in the period."""

    sender_id: str
    first_failure: float
    failures: int


# --- Baton's tickets ------------------------------------------------------------------------


def escalated_tickets(
    database_url: str, since: dt.datetime, until: dt.datetime, limit: int
) -> List[EscalatedTicket]:
    """Tickets opened in [since, until), oldest first, at most `limit`.

    Raises:
        SourceUnavailable: the database cannot be reached or has no tickets table.
    """
    _require_sqlite_file(database_url, "Baton's database (DATABASE_URL)", "`bot migrate`")
    engine = make_engine(database_url)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            rows = session.execute(
                select(Ticket, Conversation.sender_id)
                .join(Conversation, Ticket.conversation_id == Conversation.id)
                .where(Ticket.created_at >= since, Ticket.created_at < until)
                # Ordered by id too: two tickets may share a timestamp.
                .order_by(Ticket.created_at, Ticket.id)
                .limit(limit)
            ).all()
            return [_escalated(ticket, sender_id) for ticket, sender_id in rows]
    except SQLAlchemyError as error:
        raise SourceUnavailable(
            f"cannot read the tickets in Baton's database ({_url_for_people(database_url)}): "
            f"{_first_line(error)}; is DATABASE_URL right, and has `bot migrate` run?"
        ) from None
    finally:
        engine.dispose()


def _escalated(ticket: Ticket, sender_id: str) -> EscalatedTicket:
    context = ticket.context if isinstance(ticket.context, Mapping) else {}
    reasons = []
    for reason in context.get("escalation_reasons") or ():
        if isinstance(reason, Mapping):
            reasons.append(str(reason.get("detail") or reason.get("rule") or reason.get("type")))
    if not reasons and context.get("reason"):
        reasons.append(str(context["reason"]))
    transcript = [turn for turn in context.get("transcript") or () if isinstance(turn, Mapping)]
    return EscalatedTicket(
        reference=ticket.reference,
        sender_id=sender_id,
        created_at=ticket.created_at,
        priority=ticket.priority,
        team=ticket.team,
        status=ticket.status,
        reasons=reasons,
        transcript=[dict(turn) for turn in transcript],
    )


# --- Rasa's tracker store -----------------------------------------------------------------


def tracker_url_from_endpoints(project_root: Path) -> str:
    """The SQLAlchemy URL of the tracker store endpoints.yml configures.

    `${VAR}` values are read from the environment, as Rasa does; a relative SQLite
    file is relative to the project folder, where the bot runs.

    Raises:
        SourceUnavailable: no endpoints.yml, no tracker store, or not an SQL one.
    """
    with warnings.catch_warnings():
        # Importing Rasa warns about its own dependencies: nothing a reader can act on.
        warnings.simplefilter("ignore")
        from rasa.utils.endpoints import read_endpoint_config

    path = project_root / ENDPOINTS_FILE
    if not path.exists():
        raise SourceUnavailable(
            f"no {ENDPOINTS_FILE} in {project_root}: where is the tracker store?"
        )
    try:
        endpoint = read_endpoint_config(str(path), "tracker_store")
    except Exception as error:  # Rasa raises its own kinds for a bad file or a missing ${VAR}
        raise SourceUnavailable(f"{ENDPOINTS_FILE}: cannot read tracker_store ({error})") from None
    if endpoint is None:
        raise SourceUnavailable(
            f"{ENDPOINTS_FILE} has no tracker_store: conversations are kept in memory only, "
            "so there is nothing to export"
        )
    kind = str(endpoint.type or "")
    if kind.lower() not in _SQL_TYPES and not kind.endswith("SQLTrackerStore"):
        raise SourceUnavailable(
            f"{ENDPOINTS_FILE}: the tracker store is {kind!r}; export-review reads SQL tracker "
            "stores only (type: sql, or a subclass of Rasa's SQLTrackerStore)"
        )
    options: Dict[str, Any] = dict(endpoint.kwargs)
    dialect = str(options.get("dialect", "sqlite"))
    db = str(options.get("db", "rasa.db"))
    if dialect == "sqlite" and db not in ("", ":memory:") and not Path(db).is_absolute():
        db = str(project_root / db)
    host = endpoint.url
    if host and "://" in str(host):
        return str(host)  # a whole URL in `url:`, as Rasa's SQLTrackerStore.get_db_url allows
    port = options.get("port")
    if host:
        # "db.example:5432" is allowed too.
        parsed = urlsplit(f"scheme://{host}")
        host, port = parsed.hostname or host, parsed.port or port
    rendered: str = URL.create(
        dialect,
        username=options.get("username"),
        password=options.get("password"),
        host=host,
        port=int(port) if port else None,
        database=db,
        query=options.get("query") or {},
    ).render_as_string(hide_password=False)
    return rendered


def failed_conversations(
    tracker_url: str, since: dt.datetime, until: dt.datetime, limit: int
) -> List[FailedConversation]:
    """Conversations with a failed turn in [since, until), earliest failure first.

    Raises:
        SourceUnavailable: the tracker store cannot be read.
    """
    failed = or_(
        (EVENTS.c.type_name == "user") & EVENTS.c.intent_name.in_(FAILURE_INTENTS),
        (EVENTS.c.type_name == "action") & EVENTS.c.action_name.in_(FAILURE_ACTIONS),
    )
    statement = (
        select(
            EVENTS.c.sender_id,
            func.min(EVENTS.c.timestamp).label("first"),
            func.count().label("failures"),
        )
        .where(
            failed, EVENTS.c.timestamp >= since.timestamp(), EVENTS.c.timestamp < until.timestamp()
        )
        .group_by(EVENTS.c.sender_id)
        .order_by("first", EVENTS.c.sender_id)
        .limit(limit)
    )
    with _tracker_engine(tracker_url) as engine:
        try:
            with engine.connect() as connection:
                rows = connection.execute(statement).all()
        except SQLAlchemyError as error:
            raise _tracker_unavailable(tracker_url, error) from None
    return [FailedConversation(row.sender_id, float(row.first), int(row.failures)) for row in rows]


def conversation_events(
    tracker_url: str, sender_ids: Sequence[str]
) -> Dict[str, List[Dict[str, Any]]]:
    """Every stored event of each conversation, in the order Rasa stored them.

    Raises:
        SourceUnavailable: the tracker store cannot be read.
    """
    events: Dict[str, List[Dict[str, Any]]] = {sender_id: [] for sender_id in sender_ids}
    if not sender_ids:
        return events
    with _tracker_engine(tracker_url) as engine:
        try:
            with engine.connect() as connection:
                # Ordered by id: timestamps are floats that two events may share.
                rows = connection.execute(
                    select(EVENTS.c.sender_id, EVENTS.c.data)
                    .where(EVENTS.c.sender_id.in_(list(sender_ids)))
                    .order_by(EVENTS.c.id)
                ).all()
        except SQLAlchemyError as error:
            raise _tracker_unavailable(tracker_url, error) from None
    for sender_id, data in rows:
        try:
            event = json.loads(data) if isinstance(data, str) else data
        except ValueError:
            continue  # a row Rasa itself could not replay either
        if isinstance(event, dict):
            events[sender_id].append(event)
    return events


@contextmanager
def _tracker_engine(url: str) -> Iterator[Engine]:
    """An engine on the tracker store for one read; a missing SQLite file is not created."""
    _require_sqlite_file(url, "the tracker store (endpoints.yml)", "the bot has run")
    engine = create_engine(url, future=True)
    try:
        yield engine
    finally:
        engine.dispose()


def _tracker_unavailable(url: str, error: Exception) -> SourceUnavailable:
    return SourceUnavailable(
        f"cannot read Rasa's tracker store ({_url_for_people(url)}): {_first_line(error)}; "
        f"check tracker_store in {ENDPOINTS_FILE}"
    )


def _require_sqlite_file(url: str, what: str, remedy: str) -> None:
    """A SQLite file that is not there would be created empty: say so instead."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            raise SourceUnavailable(
                f"{what}: the SQLite file {parsed.database} does not exist (nothing recorded "
                f"there yet; it appears after {remedy})"
            )


def _url_for_people(url: str) -> str:
    return str(make_url(url).render_as_string(hide_password=True))


def _first_line(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else type(error).__name__
