"""What most often comes right before an escalation: intents, FAQ answers that did not
help, and messages the bot did not understand, grouped by similar wording.

Each escalation is represented by its trigger (the customer's last message on a topic
before the handoff, `bot.handoff_context.escalation_trigger`). Similar utterances are
grouped by the cosine similarity of their character n-grams (TF-IDF, scikit-learn),
so "my router keeps blinking red" and "router blinking red again!!" land together
while a typo does not split a group.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Sequence

from bot.constants import INTENT_FAQ, INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE

TOP = 10
EXAMPLES_PER_CAUSE = 3
SIMILAR_SHOWN = 5
# Utterances grouped at most (the most recent first): grouping is quadratic in the worst case.
MAX_UTTERANCES = 3000
# Two wordings belong together from this cosine similarity of their character n-grams on.
SIMILARITY = 0.5
_MISUNDERSTOOD = frozenset({INTENT_NLU_FALLBACK, INTENT_OUT_OF_SCOPE})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class EscalationSample:
    """One escalation as the root-cause analysis sees it."""

    ticket: str  # its reference
    conversation: str  # the conversation's sender id
    intent: str | None
    text: str | None


def find_root_causes(samples: Iterable[EscalationSample]) -> Dict[str, Any]:
    """The top intents, FAQ misses and misunderstood-utterance groups, with example tickets.

    `samples` newest first gives the newest examples.
    """
    samples = list(samples)
    known = [s for s in samples if s.intent]
    faq = [
        s for s in known if s.intent == INTENT_FAQ or (s.intent or "").startswith(f"{INTENT_FAQ}/")
    ]
    misunderstood = [s for s in known if s.intent in _MISUNDERSTOOD and (s.text or "").strip()]
    return {
        "intents": _top_intents(known),
        "faq_misses": _top_intents(faq),
        "fallback_utterances": group_utterances(misunderstood[:MAX_UTTERANCES]),
    }


def _top_intents(samples: Sequence[EscalationSample]) -> List[Dict[str, Any]]:
    by_intent: Dict[str, List[EscalationSample]] = defaultdict(list)
    for sample in samples:
        by_intent[str(sample.intent)].append(sample)
    ranked = sorted(by_intent.items(), key=lambda item: (-len(item[1]), item[0]))[:TOP]
    return [
        {"intent": intent, "escalations": len(members), "examples": _examples(members)}
        for intent, members in ranked
    ]


def group_utterances(samples: Sequence[EscalationSample]) -> List[Dict[str, Any]]:
    """Groups of similar misunderstood messages, biggest first.

    Greedy leader clustering over distinct wordings, most frequent first: a wording
    joins the first group whose leader it resembles (cosine ≥ `SIMILARITY`), else it
    leads a new group. The leader — the group's most frequent wording — represents it.
    """
    if not samples:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer  # heavy: only when needed

    by_wording: Dict[str, List[EscalationSample]] = defaultdict(list)
    for sample in samples:
        by_wording[_normalised(sample.text or "")].append(sample)
    wordings = sorted(by_wording, key=lambda w: (-len(by_wording[w]), w))
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), lowercase=True).fit_transform(
        wordings
    )
    leaders: List[int] = []
    members: Dict[int, List[int]] = {}
    for index in range(len(wordings)):
        if leaders:
            # Rows are L2-normalised: their dot product is the cosine similarity.
            similarity = (vectors[leaders] @ vectors[index].T).toarray().ravel()
            best = int(similarity.argmax())
            if similarity[best] >= SIMILARITY:
                members[leaders[best]].append(index)
                continue
        leaders.append(index)
        members[index] = [index]
    groups: List[Dict[str, Any]] = []
    for leader in leaders:
        grouped = [sample for index in members[leader] for sample in by_wording[wordings[index]]]
        groups.append(
            {
                "text": by_wording[wordings[leader]][0].text,
                "count": len(grouped),
                "similar": [
                    by_wording[wordings[i]][0].text for i in members[leader][1 : 1 + SIMILAR_SHOWN]
                ],
                "examples": _examples(grouped),
            }
        )
    groups.sort(key=lambda group: -group["count"])
    return groups[:TOP]


def _examples(samples: Sequence[EscalationSample]) -> List[Dict[str, str]]:
    seen: Counter[str] = Counter()
    examples = []
    for sample in samples:
        if seen[sample.conversation]:
            continue
        seen[sample.conversation] += 1
        examples.append({"ticket": sample.ticket, "conversation": sample.conversation})
        if len(examples) == EXAMPLES_PER_CAUSE:
            break
    return examples


def _normalised(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())
