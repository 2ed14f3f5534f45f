"""`bot export-review` on constructed conversations: tickets through the store, events through
Rasa's SQL tracker store, on SQLite and PostgreSQL; the output read back with Rasa's own readers."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.loading import load_data
from sqlalchemy.orm import sessionmaker

from bot.content.export import (
    NLU_FILE,
    README_FILE,
    REVIEW_NOT_UNDERSTOOD,
    REVIEW_OUT_OF_SCOPE,
    STORIES_FILE,
    export_review,
    run_export,
)
from bot.content.review_yaml import example_text
from bot.content.sources import SourceUnavailable
from bot.settings import PROJECT_ROOT
from bot.store import TicketStore
from bot.store.records import CustomerInfo
from connectors.tracker_store import TunedSQLTrackerStore
from tests.store.conftest import NO_WAIT, decision

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
SINCE = NOW - dt.timedelta(days=7)
DOMAIN = Domain.from_dict({"intents": ["greet", "request_human", "faq", "inform", "out_of_scope"]})

# Everything a customer could type to break out of a YAML scalar, a comment or Rasa markup.
NASTY = (
    "my order: - \"BW-1\" 'quoted'\n- intent: greet\n  examples: |\n    - injected example\n"
    '# a comment? [BW-100234](order_number) {"entity": "x"} | > & * ! % @ `\r\n'
    "---\n...\u2028- action: utter_greet\u0085\ttab\x0bvt\x1b[31m \\u0041 \U0001f600 end"
)


def user(text: str, intent: str, at: dt.datetime, **parse: Any) -> UserUttered:
    data: Dict[str, Any] = {
        "intent": {"name": intent, "confidence": 0.42},
        "entities": [],
        "text": text,
    }
    data.update(parse)
    return UserUttered(
        text, data["intent"], data["entities"], parse_data=data, timestamp=at.timestamp()
    )


def action(name: str, at: dt.datetime) -> ActionExecuted:
    return ActionExecuted(name, timestamp=at.timestamp())


def faq(text: str, sub_intent: str, at: dt.datetime) -> UserUttered:
    selector = {"faq": {"response": {"intent_response_key": sub_intent, "confidence": 0.9}}}
    return user(text, "faq", at, response_selector=selector)


def session(at: dt.datetime) -> List[Event]:
    return [
        action("action_session_start", at),
        SessionStarted(timestamp=at.timestamp()),
        action("action_listen", at),
    ]


def conversations() -> Dict[str, List[Event]]:
    t = NOW - dt.timedelta(days=1)
    minute = dt.timedelta(minutes=1)
    return {
        # Escalated: the customer asked for a person; what they said to the agent stays out.
        "conv-escalated": session(t)
        + [
            user("hi", "greet", t + minute),
            action("utter_greet", t + minute),
            action("action_listen", t + minute),
            user("get me someone from billing on the line", "request_human", t + 2 * minute),
            action("action_request_handoff", t + 2 * minute),
            ConversationPaused(timestamp=(t + 2 * minute).timestamp()),
            user("my date of birth is 1 April 1980", "inform", t + 3 * minute),
        ],
        # Failed: one message not understood (the nasty one), one out of scope, one FAQ, a button.
        "conv-failed": session(t)
        + [
            user(NASTY, "nlu_fallback", t + minute),
            action("action_handle_fallback", t + minute),
            action("action_listen", t + minute),
            faq("how do I send back a phone i dont want", "faq/returns", t + 2 * minute),
            action("utter_faq", t + 2 * minute),
            action("action_listen", t + 2 * minute),
            user("can you book me a taxi", "out_of_scope", t + 3 * minute),
            action("action_default_fallback", t + 3 * minute),
            action("action_listen", t + 3 * minute),
            user(
                '/inform{"case_category": "billing"}',
                "inform",
                t + 4 * minute,
                entities=[{"entity": "case_category", "value": "billing"}],
            ),
            action("utter_anything_else", t + 4 * minute),
        ],
        # Failed, but before the period: not exported.
        "conv-old": session(SINCE - dt.timedelta(days=2))
        + [
            user("blorp", "nlu_fallback", SINCE - dt.timedelta(days=2)),
            action("action_handle_fallback", SINCE - dt.timedelta(days=2)),
        ],
        # Understood throughout: not exported.
        "conv-fine": session(t)
        + [user("hello", "greet", t + minute), action("utter_greet", t + minute)],
    }


async def save_conversations(store: TunedSQLTrackerStore, chats: Dict[str, List[Event]]) -> None:
    for sender_id, events in chats.items():
        await store.save(DialogueStateTracker.from_events(sender_id, events))


def open_ticket(session_factory: sessionmaker, sender_id: str, at: dt.datetime) -> str:
    store = TicketStore(session_factory, retry=NO_WAIT)
    context = {
        "escalation_reasons": [
            {
                "type": "customer_initiated",
                "rule": "asked_for_human",
                "detail": "asked for a person\n- action: x",
            }
        ],
        "transcript": [
            {
                "sender": "customer",
                "text": "get me someone from billing on the line",
                "intent": "request_human",
            }
        ],
    }
    ticket, _created = store.open_ticket(
        f"key-{sender_id}",
        sender_id,
        "webchat",
        CustomerInfo("C-1001"),
        decision(at),
        context,
        "billing",
        at,
    )
    return ticket.reference


def read_stories(path: Path) -> list:
    return YAMLStoryReader().read_from_file(path)


def user_turns(steps: list) -> List[tuple]:
    return [
        (event.text, event.intent.get("name"), event.intent.get("full_retrieval_intent_name"))
        for step in steps
        for event in step.events
        if isinstance(event, UserUttered)
    ]


def actions_of(step) -> List[str]:
    return [event.action_name for event in step.events if isinstance(event, ActionExecuted)]


@pytest.fixture
async def exported(migrated_url: str, session_factory: sessionmaker, tmp_path: Path):
    """The export of `conversations()`; on PostgreSQL Rasa's `events` table sits beside Baton's."""
    if migrated_url.startswith("sqlite"):
        tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
        store = TunedSQLTrackerStore(
            domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db")
        )
    else:
        tracker_url = migrated_url
        store = TunedSQLTrackerStore(domain=DOMAIN, dialect="postgresql", host=migrated_url)
    await save_conversations(store, conversations())
    store.engine.dispose()
    reference = open_ticket(
        session_factory, "conv-escalated", NOW - dt.timedelta(days=1, minutes=-2)
    )
    # A ticket from before the period.
    open_ticket(session_factory, "conv-old", SINCE - dt.timedelta(hours=1))
    result = export_review(
        database_url=migrated_url,
        tracker_url=tracker_url,
        since=SINCE,
        until=NOW,
        out=tmp_path / "review",
        limit=50,
        project=PROJECT_ROOT,
    )
    return result, reference


async def test_exports_the_escalated_and_the_failed_conversation_as_rasa_test_stories(
    exported,
) -> None:
    result, reference = exported
    assert (result.escalated, result.failed) == (1, 1)
    assert result.folder is not None and result.folder.parent.name == "review"
    assert sorted(path.name for path in result.folder.iterdir()) == sorted(
        [NLU_FILE, README_FILE, STORIES_FILE]
    )
    stories = read_stories(result.folder / STORIES_FILE)
    assert [step.block_name for step in stories] == [
        f"1. escalated {reference} (conv-escalated)",
        "2. failed (conv-failed)",
    ]
    escalated, failed = stories
    assert user_turns([escalated]) == [
        ("hi", "greet", None),
        ("get me someone from billing on the line", "request_human", None),
    ]
    assert actions_of(escalated) == ["utter_greet", "action_request_handoff"]
    assert user_turns([failed]) == [
        (example_text(NASTY), "nlu_fallback", None),
        ("how do I send back a phone i dont want", "faq", "faq/returns"),
        ("can you book me a taxi", "out_of_scope", None),
        # The button click: intent and entity, no text.
        (None, "inform", None),
    ]
    assert actions_of(failed) == [
        "action_handle_fallback",
        "utter_faq",
        "action_default_fallback",
        "utter_anything_else",
    ]
    button = [e for e in failed.events if isinstance(e, UserUttered)][-1]
    assert [(entity["entity"], entity["value"]) for entity in button.entities] == [
        ("case_category", "billing")
    ]

    text = (result.folder / STORIES_FILE).read_text(encoding="utf-8")
    assert f"# Escalated: ticket {reference}, priority P3, team billing, open;" in text
    assert "# Why: asked for a person - action: x" in text
    assert "# a person had the conversation here" not in text  # never resumed
    assert "# handed to a person from here (1 customer message(s))" in text
    assert "date of birth" not in text


async def test_candidates_are_valid_nlu_data_with_placeholders_for_what_was_not_understood(
    exported,
) -> None:
    result, _reference = exported
    data = load_data(str(result.folder / NLU_FILE))
    examples = sorted(
        (message.get("intent_response_key") or message.get("intent"), message.get("text"))
        for message in data.intent_examples
    )
    assert examples == sorted(
        [
            (REVIEW_NOT_UNDERSTOOD, example_text(NASTY)),
            (REVIEW_OUT_OF_SCOPE, "can you book me a taxi"),
            ("faq/returns", "how do I send back a phone i dont want"),
            # "hi" is in data/nlu already; a button's payload is no example.
            ("request_human", "get me someone from billing on the line"),
        ]
    )
    assert result.candidates == 4


async def test_the_nasty_message_stays_one_line_of_text(exported) -> None:
    result, _reference = exported
    line = example_text(NASTY)
    assert "\n" not in line and "\u2028" not in line and "\x0b" not in line
    # The words survive, the entity markup does not, nothing was injected.
    assert "my order: - \"BW-1\" 'quoted' - intent: greet examples: |" in line
    assert "[BW-100234] (order_number)" in line
    assert line.endswith("\\ u0041 \U0001f600 end")  # no \\u escape left for Rasa to decode
    data = load_data(str(result.folder / NLU_FILE))
    assert not data.entity_examples
    assert "greet" not in data.intents
    assert "injected example" not in {message.get("text") for message in data.intent_examples}
    stories = read_stories(result.folder / STORIES_FILE)
    assert len(stories) == 2
    assert all(
        not isinstance(event, ActionExecuted) or event.action_name != "utter_greet"
        for event in stories[1].events
    )


async def test_the_limit_counts_conversations_escalations_first(
    migrated_url, session_factory, tmp_path
) -> None:
    store = TunedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    await save_conversations(store, conversations())
    store.engine.dispose()
    open_ticket(session_factory, "conv-escalated", NOW - dt.timedelta(hours=20))
    result = export_review(
        database_url=migrated_url,
        tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        since=SINCE,
        until=NOW,
        out=tmp_path / "review",
        limit=1,
    )
    assert (result.escalated, result.failed) == (1, 0)


def test_nothing_to_export_writes_no_folder(migrated_url: str, tmp_path: Path) -> None:
    TunedSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db")
    ).engine.dispose()
    result = export_review(
        database_url=migrated_url,
        tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        since=SINCE,
        until=NOW,
        out=tmp_path / "review",
        limit=10,
    )
    assert result.folder is None
    assert not (tmp_path / "review").exists()


def test_a_missing_tracker_file_is_said_so_and_not_created(
    migrated_url: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "tracker.db"
    with pytest.raises(SourceUnavailable, match="the SQLite file .*tracker.db does not exist"):
        export_review(
            database_url=migrated_url,
            tracker_url=f"sqlite:///{missing}",
            since=SINCE,
            until=NOW,
            out=tmp_path / "review",
            limit=10,
        )
    assert not missing.parent.exists()


# --- The command, with the project's endpoints.yml and DATABASE_URL --------------------------


def project_with_tracker(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "var").mkdir(parents=True)
    (project / "endpoints.yml").write_text(
        "tracker_store:\n  type: connectors.tracker_store.TunedSQLTrackerStore\n"
        "  dialect: sqlite\n  db: var/tracker.db\n",
        encoding="utf-8",
    )
    return project


def args(out: Path, project: Path, since: str = "7d", limit: int = 200) -> argparse.Namespace:
    return argparse.Namespace(since=since, out=out, limit=limit, project=project)


async def test_the_command_reads_endpoints_and_database_url(tmp_path, monkeypatch, capsys) -> None:
    from bot.migrate import upgrade

    project = project_with_tracker(tmp_path)
    database_url = f"sqlite:///{tmp_path / 'baton.db'}"
    upgrade(database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    store = TunedSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(project / "var" / "tracker.db")
    )
    recent = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    await save_conversations(
        store,
        {
            "conv-1": session(recent)
            + [user("zzkk qq", "nlu_fallback", recent), action("action_handle_fallback", recent)]
        },
    )
    store.engine.dispose()

    assert run_export(args(tmp_path / "review", project)) == 0
    said = capsys.readouterr().out
    assert "0 escalated and 1 failed conversation(s), 1 candidate example(s)" in said
    [folder] = list((tmp_path / "review").iterdir())
    assert "zzkk qq" in (folder / NLU_FILE).read_text(encoding="utf-8")

    assert run_export(args(tmp_path / "review", project, since="30m")) == 0
    assert "nothing to export" in capsys.readouterr().out


def test_the_command_says_when_the_database_is_unreachable(tmp_path, monkeypatch, capsys) -> None:
    project = project_with_tracker(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/baton?connect_timeout=2")
    assert run_export(args(tmp_path / "review", project)) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "bot export-review: cannot read the tickets in Baton's database "
        "(postgresql://nobody@127.0.0.1:1/baton"
    )
    assert not (tmp_path / "review").exists()


@pytest.mark.parametrize(
    ("since", "message"),
    [("yesterday", "is not a moment"), ("0d", "more than zero"), ("2999-01-01", "not in the past")],
)
def test_the_command_refuses_a_bad_period(tmp_path, since, message, capsys) -> None:
    assert run_export(args(tmp_path / "review", project_with_tracker(tmp_path), since=since)) == 2
    assert message in capsys.readouterr().err


def test_an_in_memory_tracker_store_has_nothing_to_export(tmp_path, capsys) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "endpoints.yml").write_text(
        "action_endpoint:\n  url: http://localhost:5055/webhook\n", encoding="utf-8"
    )
    assert run_export(args(tmp_path / "review", project)) == 2
    assert "has no tracker_store" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("tracker_store", "url"),
    [
        (
            "  type: SQL\n  dialect: postgresql\n  url: db.example\n  port: 5433\n  db: rasa\n"
            "  username: rasa\n  password: ${TRACKER_TEST_PASSWORD}\n",
            "postgresql://rasa:s3cret@db.example:5433/rasa",
        ),
        (
            "  type: sql\n  dialect: postgresql\n  url: db.example:6543\n  db: rasa\n",
            "postgresql://db.example:6543/rasa",
        ),
        (
            "  type: connectors.tracker_store.TunedSQLTrackerStore\n  dialect: sqlite\n"
            "  db: var/tracker.db\n",
            "sqlite:///{project}/var/tracker.db",
        ),
    ],
)
def test_the_tracker_store_url_comes_from_endpoints_yml(
    tmp_path, monkeypatch, tracker_store, url
) -> None:
    from bot.content.sources import tracker_url_from_endpoints

    monkeypatch.setenv("TRACKER_TEST_PASSWORD", "s3cret")
    (tmp_path / "endpoints.yml").write_text("tracker_store:\n" + tracker_store, encoding="utf-8")
    assert tracker_url_from_endpoints(tmp_path) == url.format(project=tmp_path)


def test_a_tracker_store_that_is_not_sql_is_refused(tmp_path) -> None:
    from bot.content.sources import tracker_url_from_endpoints

    (tmp_path / "endpoints.yml").write_text(
        "tracker_store:\n  type: redis\n  url: localhost\n", encoding="utf-8"
    )
    with pytest.raises(
        SourceUnavailable,
        match="the tracker store is 'redis'; export-review reads SQL tracker stores only",
    ):
        tracker_url_from_endpoints(tmp_path)


def test_each_failed_session_is_its_own_story_and_a_handback_is_a_note() -> None:
    from bot.content.export import failure_stories
    from bot.content.sources import FailedConversation

    first, second = NOW - dt.timedelta(days=2), NOW - dt.timedelta(days=1)
    events = [
        event.as_dict()
        for event in session(SINCE - dt.timedelta(days=1))
        + [user("zzz", "nlu_fallback", SINCE - dt.timedelta(days=1))]  # before the period
        + session(first)
        + [
            user("qqq", "nlu_fallback", first),
            action("action_handle_fallback", first),
            user("a person please", "request_human", first),
            action("action_request_handoff", first),
            ConversationPaused(timestamp=first.timestamp()),
            user("hello?", "greet", first),
            user("thanks", "thank", first),
            ConversationResumed(timestamp=first.timestamp()),
            action("utter_back_with_assistant", first),
        ]
        + session(second)
        + [
            user("hi", "greet", second),
            action("utter_greet", second),
            user("wxyz", "out_of_scope", second),
        ]
    ]
    stories = failure_stories(
        FailedConversation("c-9", first.timestamp(), 2), events, SINCE.timestamp(), NOW.timestamp()
    )
    assert [story.title for story in stories] == [
        "failed (c-9), session 1 of 2",
        "failed (c-9), session 2 of 2",
    ]
    one, two = stories
    assert [(s.intent, s.text, s.action, s.note) for s in one.steps] == [
        ("nlu_fallback", "qqq", None, None),
        (None, "", "action_handle_fallback", None),
        ("request_human", "a person please", None, None),
        (None, "", "action_request_handoff", None),
        (None, "", None, "a person had the conversation here (2 customer message(s))"),
        (None, "", "utter_back_with_assistant", None),
    ]
    assert [(s.intent, s.text) for s in two.steps if s.intent] == [
        ("greet", "hi"),
        ("out_of_scope", "wxyz"),
    ]
    assert one.why == [
        "Failed: 1 customer message(s) not understood or out of scope, 0 default fallback(s)."
    ]


def test_a_session_starts_with_rasas_session_start_action() -> None:
    from bot.content.export import sessions

    first, second = NOW - dt.timedelta(days=2), NOW - dt.timedelta(days=1)
    events = [
        e.as_dict()
        for e in session(first)
        + [user("hi", "greet", first)]
        + session(second)
        + [user("yo", "greet", second)]
    ]
    parts = sessions(events)
    assert [[e["event"] for e in part] for part in parts] == [
        ["action", "session_started", "action", "user"],
        ["action", "session_started", "action", "user"],
    ]
