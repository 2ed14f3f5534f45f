"""`bot export-review`: escalated and failed conversations, as files a content team reviews.

Writes `<out>/<UTC timestamp>/`:

- `test_stories.yml`: one draft Rasa test story per conversation (the session in
  which it was escalated or failed), its user turns with what the bot understood and
  the actions it took, a comment saying why it was exported (the ticket reference and
  reasons, or the failed turns). Once corrected, a story goes to tests/conversations/.
- `nlu_candidates.yml`: the customer messages of those conversations as NLU
  examples, grouped by the intent the bot recognised, without duplicates or
  examples already in data/. Those it did not understand (nlu_fallback) or judged out
  of scope sit under placeholder intents (`REVIEW_NOT_UNDERSTOOD`,
  `REVIEW_OUT_OF_SCOPE`) that no rule uses: the folder is outside data/ and never
  trained, and an example moved to data/ by mistake with its placeholder still fails
  `bot check`.
- `README.md`: how to review them and move what is right into data/.

Customer text is written through bot/content/review_yaml.py: it can never add YAML
structure or Rasa markup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

from bot.constants import INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE
from bot.content import review_yaml as y
from bot.content.period import parse_since
from bot.content.project import ProjectUnreadable, normalise, read_project
from bot.content.sources import (
    FAILURE_ACTIONS,
    FAILURE_INTENTS,
    EscalatedTicket,
    FailedConversation,
    SourceUnavailable,
    conversation_events,
    escalated_tickets,
    failed_conversations,
    tracker_url_from_endpoints,
)
from bot.parse_data import full_intent_name
from bot.settings import PROJECT_ROOT, Settings

STORIES_FILE = "test_stories.yml"
NLU_FILE = "nlu_candidates.yml"
README_FILE = "README.md"
RASA_YAML_VERSION = "3.1"
# Placeholder intents: never in the domain, so never trained, and `bot check` fails
# on an example left under one of them in data/.
REVIEW_NOT_UNDERSTOOD = "REVIEW_NOT_UNDERSTOOD"
REVIEW_OUT_OF_SCOPE = "REVIEW_OUT_OF_SCOPE"
PLACEHOLDERS = {
    INTENT_NLU_FALLBACK: REVIEW_NOT_UNDERSTOOD,
    INTENT_OUT_OF_SCOPE: REVIEW_OUT_OF_SCOPE,
}
# Actions a test story does not list.
ACTION_SESSION_START = "action_session_start"
SILENT_ACTIONS = frozenset({"action_listen", ACTION_SESSION_START, "action_unlikely_intent"})
# Rasa's marker on a user event nobody typed (the desk's resume, external triggers).
METADATA_IS_EXTERNAL = "is_external"
FOLDER_FORMAT = "%Y%m%d-%H%M%S"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")

EXIT_OK = 0
EXIT_UNAVAILABLE = 2


# --- A conversation as a draft story ---------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a story: a user turn (`intent` set) or an action, or a note for the reader."""

    intent: str | None = None
    text: str = ""  # the customer's words (already one safe line); "" for a button or trigger
    entities: Tuple[Tuple[str, str], ...] = ()
    action: str | None = None
    note: str | None = None

    @property
    def failed(self) -> bool:
        return self.intent in FAILURE_INTENTS or self.action in FAILURE_ACTIONS


@dataclass
class ReviewStory:
    title: str
    why: List[str]
    steps: List[Step] = field(default_factory=list)


def sessions(events: Sequence[Mapping[str, Any]]) -> List[List[Mapping[str, Any]]]:
    """The events split at each `session_started`, as Rasa splits a conversation."""
    parts: List[List[Mapping[str, Any]]] = [[]]
    for event in events:
        # Rasa writes `action_session_start`, then `session_started`: both open the session.
        starts = _is_action(event, ACTION_SESSION_START) or (
            event.get("event") == "session_started"
            and not (parts[-1] and _is_action(parts[-1][-1], ACTION_SESSION_START))
        )
        if starts and parts[-1]:
            parts.append([])
        parts[-1].append(event)
    return [part for part in parts if part]


def _is_action(event: Mapping[str, Any], name: str) -> bool:
    return event.get("event") == "action" and event.get("name") == name


def steps_of(events: Iterable[Mapping[str, Any]]) -> List[Step]:
    """The steps of one session; while a person has the conversation, one note instead."""
    steps: List[Step] = []
    with_person = 0
    paused = False
    for event in events:
        kind = event.get("event")
        if kind == "pause":
            paused, with_person = True, 0
            continue
        if kind == "resume":
            if paused:
                steps.append(
                    Step(
                        note=(
                            f"a person had the conversation here ({with_person} customer "
                            "message(s))"
                        )
                    )
                )
            paused = False
            continue
        if paused:
            with_person += kind == "user"
            continue
        if kind == "user":
            steps.append(_user_step(event))
        elif kind == "action":
            name = str(event.get("name") or "")
            if name and name not in SILENT_ACTIONS:
                steps.append(Step(action=name))
    if paused:
        steps.append(Step(note=f"handed to a person from here ({with_person} customer message(s))"))
    return steps


def _user_step(event: Mapping[str, Any]) -> Step:
    parse = event.get("parse_data") or {}
    # faq and chitchat: the ResponseSelector's sub-intent (faq/returns) is what a story names.
    intent = full_intent_name(parse) or INTENT_NLU_FALLBACK
    text = str(event.get("text") or "")
    external = bool((event.get("metadata") or {}).get(METADATA_IS_EXTERNAL))
    if external or y.is_payload(text):
        # A button (/affirm, /inform{...}) or a trigger: the intent and entities say it all.
        entities = tuple(
            (str(entity["entity"]), str(entity["value"]))
            for entity in parse.get("entities") or ()
            if isinstance(entity, Mapping)
            and entity.get("entity")
            and isinstance(entity.get("value"), (str, int, float))
        )
        return Step(intent=intent, entities=entities)
    return Step(intent=intent, text=y.example_text(text))


def conversation_label(sender_id: str) -> str:
    """How a story names its conversation: the id when it is plain, else a short hash."""
    if _SAFE_ID.match(sender_id):
        return sender_id
    return "sha256:" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:12]


def ticket_story(ticket: EscalatedTicket, events: Sequence[Mapping[str, Any]]) -> ReviewStory:
    """The story of an escalation: the session in which the ticket was opened."""
    why = [
        f"Escalated: ticket {y.comment(ticket.reference)}, priority {y.comment(ticket.priority)}, "
        f"team {y.comment(ticket.team)}, {y.comment(ticket.status)}; opened "
        f"{ticket.created_at.strftime('%Y-%m-%d %H:%M UTC')}.",
    ]
    if ticket.reasons:
        why.append("Why: " + "; ".join(y.comment(reason) for reason in ticket.reasons))
    story = ReviewStory(
        f"escalated {ticket.reference} ({conversation_label(ticket.sender_id)})", why
    )
    opened = ticket.created_at.timestamp()
    chosen: List[Mapping[str, Any]] = []
    for session in sessions(events):
        if float(session[0].get("timestamp") or 0) <= opened or not chosen:
            chosen = session
    if chosen:
        story.steps = steps_of(chosen)
    else:
        story.why.append(
            "The tracker store has no events for it: steps from the ticket's transcript."
        )
        story.steps = _transcript_steps(ticket.transcript)
    return story


def _transcript_steps(transcript: Sequence[Mapping[str, Any]]) -> List[Step]:
    steps = []
    for turn in transcript:
        if turn.get("sender") != "customer":
            continue
        text = str(turn.get("text") or "")
        intent = str(turn.get("intent") or INTENT_NLU_FALLBACK)
        if y.is_payload(text):
            steps.append(Step(intent=intent))
        else:
            steps.append(Step(intent=intent, text=y.example_text(text)))
    return steps


def failure_stories(
    failed: FailedConversation, events: Sequence[Mapping[str, Any]], since: float, until: float
) -> List[ReviewStory]:
    """The stories of a failed conversation: one per session with a failed turn in the period."""
    chosen = [
        session
        for session in sessions(events)
        if any(
            _is_failure(event) and since <= float(event.get("timestamp") or 0) < until
            for event in session
        )
    ]
    stories = []
    label = conversation_label(failed.sender_id)
    for number, session in enumerate(chosen, start=1):
        steps = steps_of(session)
        if not steps:
            continue
        misunderstood = sum(1 for step in steps if step.intent in FAILURE_INTENTS)
        fallbacks = sum(1 for step in steps if step.action in FAILURE_ACTIONS)
        why = [
            f"Failed: {misunderstood} customer message(s) not understood or out of scope, "
            f"{fallbacks} default fallback(s)."
        ]
        title = (
            f"failed ({label})"
            if len(chosen) == 1
            else f"failed ({label}), session {number} of {len(chosen)}"
        )
        stories.append(ReviewStory(title, why, steps))
    return stories


def _is_failure(event: Mapping[str, Any]) -> bool:
    if event.get("event") == "user":
        return ((event.get("parse_data") or {}).get("intent") or {}).get("name") in FAILURE_INTENTS
    return event.get("event") == "action" and event.get("name") in FAILURE_ACTIONS


# --- Writing the files ----------------------------------------------------------------------


def stories_yaml(stories: Sequence[ReviewStory], period: str) -> str:
    """test_stories.yml: draft test stories, valid Rasa YAML whatever the customers wrote."""
    lines = [
        f"# Draft test stories of escalated and failed conversations, {y.comment(period)}.",
        "# Drafts, not tests yet: read README.md beside this file before moving one to "
        "tests/conversations/.",
        "# A turn marked 'not understood' shows what the bot did; write what it should have done.",
        f'version: "{RASA_YAML_VERSION}"',
        "",
        "stories:",
    ]
    for number, story in enumerate(stories, start=1):
        lines.append("")
        lines += [f"  # {y.comment(reason)}" for reason in story.why]
        lines.append(f"  - story: {y.quoted(f'{number}. {story.title}')}")
        lines.append("    steps:")
        for step in story.steps:
            lines += _step_lines(step)
    return "\n".join(lines) + "\n"


def _step_lines(step: Step) -> List[str]:
    if step.note is not None:
        return [f"      # {y.comment(step.note)}"]
    if step.action is not None:
        flag = "  # the bot gave up here" if step.action in FAILURE_ACTIONS else ""
        return [f"      - action: {y.name(step.action)}{flag}"]
    assert step.intent is not None  # noqa: S101 — narrows the type: a step is a note, an action or an intent
    flag = ""
    if step.intent == INTENT_NLU_FALLBACK:
        flag = "  # not understood: write the intent it should have been"
    elif step.intent == INTENT_OUT_OF_SCOPE:
        flag = "  # out of scope: is it really?"
    if not step.text:
        lines = [f"      - intent: {y.name(step.intent)}{flag}"]
        if step.entities:
            lines.append("        entities:")
            lines += [
                f"          - {y.name(entity)}: {y.quoted(value)}"
                for entity, value in step.entities
            ]
        return lines
    return [
        "      - user: " + y.literal_block(step.text, 10).rstrip("\n"),
        f"        intent: {y.name(step.intent)}{flag}",
    ]


@dataclass
class Candidates:
    """Customer messages by the intent they should teach, first seen first, each once."""

    by_intent: Dict[str, List[str]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def add(self, intent: str, text: str) -> None:
        key = normalise(text)
        if not text or not key or key in self.seen:
            return
        self.seen.add(key)
        self.by_intent.setdefault(PLACEHOLDERS.get(intent, intent), []).append(text)

    def __len__(self) -> int:
        return sum(len(texts) for texts in self.by_intent.values())


def candidates_of(stories: Sequence[ReviewStory], known: Iterable[str]) -> Candidates:
    """The customer messages not already training examples (`known`: normalised texts)."""
    candidates = Candidates(seen=set(known))
    for story in stories:
        for step in story.steps:
            if step.intent is not None and step.text:
                candidates.add(step.intent, step.text)
    return candidates


def nlu_yaml(candidates: Candidates, period: str) -> str:
    """nlu_candidates.yml: valid Rasa NLU YAML; placeholders first, then by intent name."""
    lines = [
        f"# Candidate NLU examples from the customers' messages, {y.comment(period)}.",
        "# Not training data: this folder is never trained. Move the right lines into data/nlu/",
        "# under the right intent (README.md says how); leave out anything personal.",
        f'version: "{RASA_YAML_VERSION}"',
        "",
        "nlu:",
    ]
    order = [
        name
        for name in (REVIEW_NOT_UNDERSTOOD, REVIEW_OUT_OF_SCOPE)
        if name in candidates.by_intent
    ]
    order += sorted(name for name in candidates.by_intent if name not in order)
    for intent in order:
        lines.append("")
        if intent == REVIEW_NOT_UNDERSTOOD:
            lines.append(
                "  # The bot did not understand these (nlu_fallback): decide the intent of each."
            )
        elif intent == REVIEW_OUT_OF_SCOPE:
            lines.append("  # The bot judged these out of scope: move the ones it should answer.")
        else:
            lines.append(
                f"  # The bot understood these as {y.comment(intent)}: check that it was right."
            )
        lines.append(f"  - intent: {y.name(intent)}")
        lines.append("    examples: |")
        lines += [f"      - {text}" for text in candidates.by_intent[intent]]
    return "\n".join(lines) + "\n"


def readme(period: str, escalated: int, failed: int, candidates: int) -> str:
    return f"""# Conversations to review, {period}

{escalated} escalated and {failed} failed conversation(s); {candidates} candidate NLU example(s).
This folder is outside `data/`: nothing here is trained or tested until you move it.

## {STORIES_FILE}: draft test stories

One story per conversation, with a comment above it saying why it is here (the ticket
reference and the reasons of an escalation, or how many turns failed).

1. Read the story. Where a turn says `# not understood`, or the intent is wrong, write
   the intent the customer meant (for an FAQ, the full name such as `faq/returns`).
2. Change the `- action:` lines that follow into what the bot *should* have done
   (`utter_faq` answers an FAQ; see `data/rules/` for the usual pairs).
3. Delete anything personal (names, emails, order numbers, addresses) from the
   `user:` lines, or make it up.
4. Move the corrected story into a file of `tests/conversations/` and run `make test`
   (it runs `rasa test` on those stories): the story fails until the bot does it right.

## {NLU_FILE}: candidate examples

The customers' messages, each once, grouped by what the bot understood, without the
ones already in `data/nlu/`.

- Under `{REVIEW_NOT_UNDERSTOOD}` are messages the bot did not understand, and under
  `{REVIEW_OUT_OF_SCOPE}` those it judged outside what it does. These are placeholder
  names, not intents: copy each useful line under the right intent in `data/nlu/`
  (FAQs are in `data/nlu/faq.yml`, e.g. `- intent: faq/returns`).
- Under a real intent are messages the bot understood that way. If it was right, the
  line can still help as an example (especially if worded unusually); if it was wrong,
  move the line to the right intent.
- Keep each line as customers write it (typos too), one example per line, starting
  with `- `. Leave out personal details.

Then run `make check` (or `bot check`): it reports an example left under two intents,
an FAQ without an answer, or a placeholder intent that is not in the domain. Then
`make train` and `make test`.
"""


# --- The command --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    folder: Path | None
    escalated: int
    failed: int
    candidates: int


def export_review(
    *,
    database_url: str,
    tracker_url: str,
    since: dt.datetime,
    until: dt.datetime,
    out: Path,
    limit: int,
    project: Path | None = None,
) -> ExportResult:
    """Write the review folder for [since, until); no folder when there is nothing to review.

    Args:
        database_url: Baton's database (tickets).
        tracker_url: Rasa's SQL tracker store.
        project: the Rasa project whose data/ holds the examples not to suggest again.

    Raises:
        SourceUnavailable: a database cannot be read.
    """
    tickets = escalated_tickets(database_url, since, until, limit)
    # Asked for more: the conversations escalated too are left out below.
    failed = failed_conversations(tracker_url, since, until, limit + len(tickets))
    escalated_ids = {ticket.sender_id for ticket in tickets}
    failed = [item for item in failed if item.sender_id not in escalated_ids]
    failed = failed[: max(0, limit - len(tickets))]
    ids = list(dict.fromkeys([t.sender_id for t in tickets] + [f.sender_id for f in failed]))
    events = conversation_events(tracker_url, ids)
    stories = [ticket_story(ticket, events.get(ticket.sender_id, [])) for ticket in tickets]
    stories = [story for story in stories if story.steps]
    escalated_count = len(stories)
    failed_count = 0
    for item in failed:
        found = failure_stories(
            item, events.get(item.sender_id, []), since.timestamp(), until.timestamp()
        )
        failed_count += bool(found)
        stories += found
    if not stories:
        return ExportResult(None, 0, 0, 0)
    candidates = candidates_of(stories, _known_examples(project))
    period = f"{since.strftime('%Y-%m-%d %H:%M')} to {until.strftime('%Y-%m-%d %H:%M')} UTC"
    folder = _new_folder(out, until)
    (folder / STORIES_FILE).write_text(stories_yaml(stories, period), encoding="utf-8")
    (folder / NLU_FILE).write_text(nlu_yaml(candidates, period), encoding="utf-8")
    (folder / README_FILE).write_text(
        readme(period, escalated_count, failed_count, len(candidates)), encoding="utf-8"
    )
    return ExportResult(folder, escalated_count, failed_count, len(candidates))


def _known_examples(project: Path | None) -> List[str]:
    if project is None:
        return []
    try:
        return [normalise(example.plain_text) for example in read_project(project).examples]
    except ProjectUnreadable:
        return []


def _new_folder(out: Path, now: dt.datetime) -> Path:
    base = now.astimezone(dt.timezone.utc).strftime(FOLDER_FORMAT)
    for attempt in range(1, 1000):
        folder = out / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            folder.mkdir(parents=True, exist_ok=False)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{out}/{base}: too many exports this second")


def run_export(args: argparse.Namespace) -> int:
    """`bot export-review [--since 7d] [--out DIR] [--limit N]`; the exit status."""
    from dotenv import load_dotenv

    project: Path = getattr(args, "project", None) or PROJECT_ROOT
    now = dt.datetime.now(dt.timezone.utc)
    try:
        since = parse_since(args.since, now)
    except ValueError as problem:
        print(f"bot export-review: {problem}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if args.limit < 1:
        print("bot export-review: --limit must be at least 1", file=sys.stderr)
        return EXIT_UNAVAILABLE
    load_dotenv(project / ".env", override=False)
    settings = Settings.from_env()
    try:
        result = export_review(
            database_url=settings.database_url,
            tracker_url=tracker_url_from_endpoints(project),
            since=since,
            until=now,
            out=Path(args.out),
            limit=args.limit,
            project=project,
        )
    except SourceUnavailable as problem:
        print(f"bot export-review: {problem}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    period = f"since {since.strftime('%Y-%m-%d %H:%M')} UTC"
    if result.folder is None:
        print(
            f"bot export-review: nothing to export: no escalated or failed conversations {period}"
        )
        return EXIT_OK
    print(
        f"bot export-review: {result.escalated} escalated and {result.failed} failed "
        f"conversation(s), {result.candidates} candidate example(s) {period}, in {result.folder}/ "
        f"(start with {result.folder / README_FILE})"
    )
    return EXIT_OK
