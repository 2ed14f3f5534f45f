""" "Did you mean…?": the FAQ questions to offer when the bot is unsure which one was asked.

When the intent classifier's best guess is an FAQ question but the message is
declined (the FallbackClassifier found the classifier unsure, or the
AnswerConfidenceFallback found the ResponseSelector unsure of the answer), the
selector's ranking still names the answers it hesitated between. Offering the top
ones as buttons lets the customer pick the right answer in one click instead of
guessing how to rephrase.

Each FAQ answer in domain.yml names the question it answers in its metadata:

    utter_faq/returns:
      - text: "You can return anything..."
        metadata:
          question: "How do I return something?"

The button sends that question as the customer's message, so it must be one of the
FAQ's own training examples (`bot check` says so when it is not): the bot then
answers it like any typed question.
"""

from __future__ import annotations

from typing import Any, Container, Dict, List, Mapping

from bot.constants import INTENT_FAQ, INTENT_NLU_FALLBACK

QUESTION_KEY = "question"
RESPONSE_PREFIX = "utter_"
# Two: enough to cover most near misses (in cross-validation the right answer was
# one of the top two for 13 of 19 such declined FAQ questions), few enough to read at a glance.
MAX_SUGGESTIONS = 2


def variation_question(variation: Any) -> str | None:
    """The question one response variation names in `metadata: {question: ...}`, if any."""
    metadata = variation.get("metadata") if isinstance(variation, Mapping) else None
    question = metadata.get(QUESTION_KEY) if isinstance(metadata, Mapping) else None
    return question.strip() if isinstance(question, str) and question.strip() else None


def suggestion_question(variations: Any) -> str | None:
    """The question the first of a response's variations to name one names."""
    if not isinstance(variations, list):
        return None
    return next((q for q in map(variation_question, variations) if q), None)


def faq_questions(responses: Mapping[str, Any]) -> Dict[str, str]:
    """The question of every FAQ answer that names one, by answer key (`faq/returns`).

    Args:
        responses: The domain's responses (`domain["responses"]`).
    """
    prefix = f"{RESPONSE_PREFIX}{INTENT_FAQ}/"
    questions = {}
    for name, variations in responses.items():
        question = suggestion_question(variations)
        if name.startswith(prefix) and question:
            questions[name[len(RESPONSE_PREFIX) :]] = question
    return questions


def classifier_intent(parse_data: Mapping[str, Any]) -> str | None:
    """The intent the classifier ranked first, before any fallback replaced it."""
    for entry in parse_data.get("intent_ranking") or []:
        name = (entry or {}).get("name")
        if name and name != INTENT_NLU_FALLBACK:
            return str(name)
    return None


def suggested_answers(
    parse_data: Mapping[str, Any],
    limit: int = MAX_SUGGESTIONS,
    offered: Container[str] | None = None,
) -> List[str]:
    """The FAQ answers (`faq/returns`) to offer for a declined message, best first.

    Args:
        parse_data: Rasa's parse of the customer's message.
        limit: At most this many.
        offered: The answers that can be offered (those with a question); all if None.

    Returns:
        The selector's top answers when the message was declined and the
        classifier's own guess was an FAQ question; otherwise none.
    """
    if (parse_data.get("intent") or {}).get("name") != INTENT_NLU_FALLBACK:
        return []
    if classifier_intent(parse_data) != INTENT_FAQ:
        return []
    ranking = ((parse_data.get("response_selector") or {}).get(INTENT_FAQ) or {}).get(
        "ranking"
    ) or []
    answers: List[str] = []
    for entry in ranking:
        if len(answers) >= limit:
            break
        key = str((entry or {}).get("intent_response_key") or "")
        if key and key not in answers and (offered is None or key in offered):
            answers.append(key)
    return answers


def suggested_questions(
    parse_data: Mapping[str, Any], questions: Mapping[str, str], limit: int = MAX_SUGGESTIONS
) -> List[str]:
    """The questions of `suggested_answers` to put on buttons, best first.

    Args:
        parse_data: Rasa's parse of the customer's message.
        questions: `faq_questions` of the domain: only these answers are offered.
        limit: At most this many.
    """
    return [questions[key] for key in suggested_answers(parse_data, limit, questions)]
