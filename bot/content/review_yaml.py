"""Writing customer text into Rasa YAML so that it stays text.

Customer messages go into the review files as written, but can never add YAML
structure, comments or Rasa markup of their own:

- every line break (also the ones only Python's `splitlines` or YAML know:
  U+2028, U+0085, form feed...) and every character YAML does not allow in a file
  becomes a space, so a message is one line inside a `|` block, where `: - "#` are
  plain characters;
- Rasa's entity markup `[text](entity)` is broken by a space (`[text] (entity)`),
  so a message never claims an entity;
- a message that starts with `/` (a button's payload, `/affirm`) is not written
  as text: Rasa would read it as an intent;
- a backslash followed by `u` or `U` gets a space after the backslash: Rasa decodes
  `\\u000a` in a file of plain ASCII into the character *before* reading the YAML
  (`rasa.shared.utils.io.read_yaml`), which would turn typed text into a line break.
  For the same reason nothing here is ever written as a `\\u` escape.

Names (intents, actions) and our own short labels are written plain when they are
simple words, else double-quoted (see `quoted`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import List

INTENT_PAYLOAD_PREFIX = "/"
_MARKUP = re.compile(r"\](?=[(\[{])")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_SPACES = re.compile(r"\s+")
_UNICODE_ESCAPE = re.compile(r"\\(?=[uU])")
# What YAML allows in a stream (c-printable), minus the line breaks handled apart.
_NOT_PRINTABLE = re.compile("[^\x09\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def one_line(text: str) -> str:
    """The text on one line, with only characters YAML and Rasa read as plain text."""
    cleaned = []
    for char in text:
        if char == "\ufeff" or len(f"a{char}a".splitlines()) > 1 or _NOT_PRINTABLE.match(char):
            cleaned.append(" ")
        elif unicodedata.category(char) == "Zs" or char == "\t":
            cleaned.append(" ")
        else:
            cleaned.append(char)
    return _UNICODE_ESCAPE.sub("\\\\ ", _SPACES.sub(" ", "".join(cleaned)).strip())


def example_text(text: str) -> str:
    """A customer message as an NLU example or a story's user text ("" when there is none)."""
    line = one_line(text)
    return _MARKUP.sub("] ", line)


def is_payload(text: str) -> bool:
    """Whether a message is a button's payload (`/inform{...}`) rather than typed text."""
    return text.strip().startswith(INTENT_PAYLOAD_PREFIX)


def quoted(text: str) -> str:
    """A double-quoted YAML scalar that reads back as `one_line(text)`.

    Only `\\"` and `\\\\` are escaped: an even run of backslashes is left alone by
    Rasa's ASCII decoding, and `one_line` leaves nothing that needs a `\\u` escape.
    """
    out: List[str] = ['"']
    for char in one_line(text):
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def name(text: str) -> str:
    """An intent or action name: plain when it is a simple name, else quoted."""
    return text if _PLAIN_NAME.match(text) else quoted(text)


def comment(text: str) -> str:
    """A `# ...` comment line's text: one line, nothing that could end the comment."""
    return one_line(text)


def literal_block(text: str, indent: int) -> str:
    """A `|` block holding one line of text (from `example_text`), indented `indent` spaces."""
    assert text and "\n" not in text, "literal_block takes one non-empty line"  # noqa: S101 — a caller's precondition, not a check of outside input
    return "|\n" + " " * indent + text + "\n"
