"""Customer messages labelled by someone else, read from a tab-separated file.

The format of `python -m bot.evaluation --external FILE.tsv` and of the set written
apart from our data (evaluation/written_apart/messages.tsv):

    text<TAB>label[<TAB>frustrated[<TAB>kind]]

`label` is `request_human`, `other` or `out_of_scope` (the decisions that matter
whatever a message's exact intent: hand over, answer, decline); `frustrated` is
`yes` or `no` (optional: without it the frustration detector is not scored); `kind`
is any tag the report breaks results down by. A first line `text<TAB>label…` is a
header and skipped. A mistake is reported as `path:line: what is wrong`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import List

from bot.constants import INTENT_OUT_OF_SCOPE, INTENT_REQUEST_HUMAN

LABEL_OTHER = "other"
LABELS = (INTENT_REQUEST_HUMAN, LABEL_OTHER, INTENT_OUT_OF_SCOPE)
FRUSTRATED_VALUES = {"yes": True, "no": False}
HEADER_FIRST_FIELDS = ("text", "label")


class LabelledMessagesError(ValueError):
    """A labelled-messages file that cannot be read; the message names file and line."""


@dataclass(frozen=True)
class LabelledCustomerMessage:
    """One message with what the bot should do with it, as its labeller saw it."""

    text: str
    label: str
    frustrated: bool | None = None
    kind: str = ""


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes (how docs/quality.md pins the set written apart)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_labelled_messages(path: Path) -> List[LabelledCustomerMessage]:
    """Every message of `path`, in order.

    Raises:
        LabelledMessagesError: If the file is missing, empty, or a line is malformed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LabelledMessagesError(f"{path}: cannot be read ({error})") from error
    messages = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and tuple(f.strip().lower() for f in fields[:2]) == HEADER_FIRST_FIELDS:
            continue
        messages.append(_message(path, number, fields))
    if not messages:
        raise LabelledMessagesError(f"{path}: no messages (expected text<TAB>label lines)")
    return messages


def _message(path: Path, number: int, fields: List[str]) -> LabelledCustomerMessage:
    where = f"{path}:{number}"
    if not 2 <= len(fields) <= 4:
        raise LabelledMessagesError(
            f"{where}: {len(fields)} tab-separated fields; expected text, label "
            "and optionally frustrated and kind"
        )
    text, label = fields[0].strip(), fields[1].strip()
    if not text:
        raise LabelledMessagesError(f"{where}: the text is empty")
    if label not in LABELS:
        raise LabelledMessagesError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
    frustrated = None
    if len(fields) >= 3 and fields[2].strip():
        value = fields[2].strip().lower()
        if value not in FRUSTRATED_VALUES:
            raise LabelledMessagesError(
                f"{where}: frustrated {fields[2].strip()!r} is not yes or no"
            )
        frustrated = FRUSTRATED_VALUES[value]
    kind = fields[3].strip() if len(fields) == 4 else ""
    return LabelledCustomerMessage(text=text, label=label, frustrated=frustrated, kind=kind)
