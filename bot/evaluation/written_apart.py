"""The set written apart from our data (evaluation/written_apart/, issue 21).

2,052 messages written from a brief by someone who never saw data/ or tests/, committed
unchanged before any tuning. Its sha256 is pinned here and in docs/quality.md: an edited
copy is refused, not scored, since a set tuned against stops measuring anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

from bot.evaluation.labelled_messages import (
    LabelledCustomerMessage,
    LabelledMessagesError,
    file_sha256,
    load_labelled_messages,
)

WRITTEN_APART_PATH = Path("evaluation/written_apart/messages.tsv")
WRITTEN_APART_SHA256 = "06873494c1413b22b988938088e8ea21d53bbb59e6cf26a38c8414a6066440b2"


def load_written_apart(
    path: Path = WRITTEN_APART_PATH, expected_sha256: str = WRITTEN_APART_SHA256
) -> List[LabelledCustomerMessage]:
    """The set's messages, after checking the file is the one committed.

    Raises:
        LabelledMessagesError: If the file differs from the pinned sha256 or is malformed.
    """
    digest = file_sha256(path)
    if digest != expected_sha256:
        raise LabelledMessagesError(
            f"{path}: sha256 {digest} is not the committed {expected_sha256}; the set "
            "written apart is never edited (evaluation/written_apart/README.md)"
        )
    return load_labelled_messages(path)
