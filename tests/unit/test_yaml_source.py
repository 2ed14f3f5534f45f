"""bot.yaml_source: the lines of a YAML document, and `path:line: message` errors."""

import pytest

from bot.yaml_source import (
    YAML_SYNTAX,
    ConfigError,
    ConfigProblem,
    entry_line,
    item_line,
    items_with_lines,
    key_line,
    line_of,
    load_with_lines,
    value_line,
)

DOCUMENT = """\
# a comment
teams:
  billing:
    name: Billing
  support: {name: Support}
priorities:
  - P1
  - P2
notes: |
  first
  second
"""


def test_every_key_item_and_value_knows_its_line() -> None:
    document = load_with_lines(DOCUMENT, "teams.yml")
    teams = document["teams"]
    assert line_of(document) == 2
    assert key_line(document, "teams") == 2
    assert key_line(teams, "support") == 5
    assert line_of(teams["billing"]) == 4
    assert item_line(document["priorities"], 1) == 8
    assert value_line(document, "notes") == 9
    assert entry_line(teams, "billing") == 3
    assert entry_line(document["priorities"], 0) == 7
    assert list(items_with_lines(document["priorities"])) == [(7, "P1"), (8, "P2")]


def test_what_has_no_line_falls_back_to_its_container_or_the_default() -> None:
    document = load_with_lines(DOCUMENT, "teams.yml")
    assert key_line(document["teams"], "unknown") == 3
    assert item_line(document["priorities"], 9) == 7
    assert key_line(document, "unknown", default=40) == 40
    plain = {"a": 1}
    assert line_of(plain) == 1
    assert line_of(None, default=7) == 7
    assert key_line(plain, "a") == 1
    assert value_line(plain, "a", default=5) == 5
    assert item_line(["x"], 0, default=3) == 3
    assert list(items_with_lines("not a list")) == []
    assert list(items_with_lines(None)) == []


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("teams:\n  billing: [unclosed\n", 3),
        ("a: 1\nb: 2\n  c: 3\n", 3),
        ("a: 1\na: 2\n", 2),
    ],
)
def test_a_syntax_error_names_the_file_and_the_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        load_with_lines(text, "conf/x.yml")
    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.allowed) == ("conf/x.yml", line, YAML_SYNTAX)
    assert str(caught.value).startswith(f"conf/x.yml:{line}: not valid YAML: ")


def test_a_problem_prints_as_path_line_message() -> None:
    assert str(ConfigProblem("a.yml", 3, "bad", "good")) == "a.yml:3: bad; allowed: good"
    assert str(ConfigProblem("a.yml", 3, "bad")) == "a.yml:3: bad"
    assert str(ConfigProblem("folder", None, "empty", "files")) == "folder: empty; allowed: files"
    assert ConfigProblem("a.yml", 3, "bad", "good").message == "bad; allowed: good"


def test_an_error_lists_every_problem_one_per_line() -> None:
    error = ConfigError([ConfigProblem("a.yml", 1, "x"), ConfigProblem("a.yml", 4, "y", "z")])
    assert str(error) == "a.yml:1: x\na.yml:4: y; allowed: z"
    assert isinstance(error, ValueError)


def test_at_builds_the_error_of_the_class_it_is_called_on() -> None:
    class LoaderError(ConfigError):
        pass

    error = LoaderError.at("b.yml", 2, "wrong", "right")
    assert type(error) is LoaderError
    assert str(error) == "b.yml:2: wrong; allowed: right"
