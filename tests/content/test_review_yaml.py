"""Customer text in the review files: whatever it holds, Rasa reads back exactly one line of
text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rasa.shared.core.events import UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.utils.io import read_yaml
from ruamel.yaml import YAML

from bot.content.export import Candidates, ReviewStory, Step, nlu_yaml, stories_yaml
from bot.content.period import parse_since
from bot.content.project import normalise
from bot.content.review_yaml import example_text, one_line, quoted

NASTY_TEXTS = [
    "key: value - \"quoted\" 'single'",
    "- intent: greet\n  examples: |\n    - injected",
    "# not a comment",
    "ends with a colon:",
    "| > ! & * % @ ` ? { } [ ] ,",
    '[BW-100234](order_number) and [x]{"entity": "y"} and [a][{"entity": "b"}]',
    "line\rbreaks\r\nof\x85every\u2028kind\u2029here\x0band\x0cthere\x1c\x1d\x1e",
    "control \x00\x07\x1b[31m chars \ufeff bom \ufffe",
    "   leading and trailing spaces   ",
    "tabs\tinside\t",
    "---",
    "...",
    'back\\slash \\n \\u0041 \\"',
    "emoji \U0001f600 and accents éàü and 漢字",
    "true",
    "null",
    "123",
    "@mention",
    "%TAG ! tag:",
    "*alias &anchor !tag",
    # Rasa decodes \\u escapes of an ASCII file before reading it, and expands ${VAR}.
    "\\u000a- intent: greet\\u000a  examples: |\\u000a    - injected \\\\u0041 \\U0001F600",
    "${HOME} and ${BATON_SURELY_NOT_SET}",
]


@pytest.mark.parametrize("text", NASTY_TEXTS)
def test_an_example_is_one_line_of_the_same_words(text: str) -> None:
    line = example_text(text)
    assert line and len(line.splitlines()) == 1 and line == line.strip()
    assert all(word in line for word in ("".join(c if c.isalnum() else " " for c in text)).split())


@pytest.mark.parametrize("text", NASTY_TEXTS)
def test_rasa_reads_back_exactly_the_written_line(text: str, tmp_path: Path) -> None:
    line = example_text(text)
    candidates = Candidates()
    candidates.add("nlu_fallback", line)
    (tmp_path / "nlu.yml").write_text(nlu_yaml(candidates, "a period"), encoding="utf-8")
    data = load_data(str(tmp_path / "nlu.yml"))
    # A message of punctuation alone teaches nothing: it is no candidate.
    expected = [("REVIEW_NOT_UNDERSTOOD", line)] if normalise(line) else []
    assert [(m.get("intent"), m.get("text")) for m in data.intent_examples] == expected
    assert data.entity_examples == []

    story = ReviewStory(
        text,
        [text],
        [Step(intent="nlu_fallback", text=line), Step(action="action_handle_fallback")],
    )
    (tmp_path / "test_stories.yml").write_text(stories_yaml([story], text), encoding="utf-8")
    [read] = YAMLStoryReader().read_from_file(tmp_path / "test_stories.yml")
    users = [event for event in read.events if isinstance(event, UserUttered)]
    assert [(u.text, u.intent_name) for u in users] == [(line, "nlu_fallback")]
    assert read.block_name == example_text(f"1. {text}") or read.block_name == f"1. {text}"


@pytest.mark.parametrize("text", NASTY_TEXTS + ["", '"', "\\"])
def test_a_quoted_scalar_reads_back_as_the_text_on_one_line(text: str) -> None:
    assert YAML(typ="safe").load(f"key: {quoted(text)}\n") == {"key": one_line(text)}
    assert read_yaml(f"key: {quoted(text)}\n") == {"key": one_line(text)}


NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("since", "start"),
    [
        ("7d", NOW - dt.timedelta(days=7)),
        ("12h", NOW - dt.timedelta(hours=12)),
        ("30m", NOW - dt.timedelta(minutes=30)),
        ("2w", NOW - dt.timedelta(weeks=2)),
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)),
        ("2026-11-01T09:30", dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.timezone.utc)),
        ("2026-11-01T09:30+01:00", dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.timezone.utc)),
    ],
)
def test_since_reads_durations_and_dates(since: str, start: dt.datetime) -> None:
    assert parse_since(since, NOW) == start


@pytest.mark.parametrize("since", ["yesterday", "7", "d7", "-3d", "0h", "2026-13-01", "2027-01-01"])
def test_since_refuses_what_it_cannot_read(since: str) -> None:
    with pytest.raises(ValueError, match="--since"):
        parse_since(since, NOW)
