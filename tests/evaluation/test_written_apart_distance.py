"""Training data written since the set written apart was committed stays apart from it.

The set (evaluation/written_apart/messages.tsv) measures reading text nobody here wrote.
Data added for issue 21 and after (the varied requests for a person, the messages of
outside writers, the frustration detector's new writers) must not be within MiniLM
cosine NEAR_TRAINING of any of its messages, or the set would measure memory. Older data
was written before the set existed; `make eval` leaves out the set's messages near it
instead (docs/quality.md). A failure names the training texts only: the set's own texts
are not printed, so that nobody tunes to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from bot.evaluation.examples import examples_of, load_training_data
from bot.evaluation.overlap import NEAR_TRAINING, minilm_featurizer, sentence_vectors
from bot.evaluation.written_apart import WRITTEN_APART_PATH, load_written_apart
from bot.sentiment.training_data import load_labelled

pytestmark = [pytest.mark.xdist_group("minilm"), pytest.mark.corpus]

ROOT = Path(__file__).resolve().parents[2]
NLU_FILES_WRITTEN_AFTER_THE_SET = ("data/nlu/human_varied.yml", "data/nlu/varied_customers.yml")
LABELLED_WRITERS_AFTER_THE_SET = (
    "asking_for_a_person",
    "mixed_public_customers",
    "weary_and_indirect_customers",
)


def texts_written_after_the_set() -> List[str]:
    texts = [
        example.text
        for name in NLU_FILES_WRITTEN_AFTER_THE_SET
        for example in examples_of(load_training_data(ROOT / name))
    ]
    texts += [m.text for m in load_labelled() if m.writer in LABELLED_WRITERS_AFTER_THE_SET]
    return texts


def test_the_files_named_here_exist():
    # A renamed file would otherwise leave the check below with nothing to check.
    for name in NLU_FILES_WRITTEN_AFTER_THE_SET:
        assert (ROOT / name).is_file(), name
    writers = {m.writer for m in load_labelled()}
    assert set(LABELLED_WRITERS_AFTER_THE_SET) <= writers


def test_no_newer_training_text_is_near_a_message_of_the_set():
    training = texts_written_after_the_set()
    featurize = minilm_featurizer()
    set_vectors = sentence_vectors(
        [m.text for m in load_written_apart(ROOT / WRITTEN_APART_PATH)], featurize
    )
    training_vectors = sentence_vectors(training, featurize)
    nearest = (training_vectors @ set_vectors.T).max(axis=1)
    too_near = [
        f"{similarity:.3f}  {text}"
        for text, similarity in zip(training, nearest, strict=True)
        if similarity >= NEAR_TRAINING
    ]
    assert not too_near, (
        f"{len(too_near)} training texts are within cosine {NEAR_TRAINING} of the set "
        "written apart; rephrase or remove them:\n" + "\n".join(too_near)
    )
