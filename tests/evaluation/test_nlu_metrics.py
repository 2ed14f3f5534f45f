"""NLU metrics on small hand-built prediction sets, checked against hand counts."""

from __future__ import annotations

import pytest

from bot.evaluation.nlu_metrics import (
    faq_answered_or_suggested,
    faq_confusions,
    faq_top1,
    in_scope_declined,
    intent_confusions,
    intent_macro_f1,
    intent_precision_recall,
    is_error,
    out_of_scope_declined,
    score_nlu,
)
from bot.evaluation.predictions import Prediction


def p(
    true: str, intent: str, retrieval: str | None = None, text: str = "x", suggested: tuple = ()
) -> Prediction:
    return Prediction(
        text=text,
        true_intent=true,
        intent=intent,
        confidence=0.9,
        retrieval_intent=retrieval,
        suggested_answers=suggested,
    )


def test_retrieval_intents_collapse_to_their_base_for_the_intent_metric():
    predictions = [
        p("faq/returns", "faq", "faq/esim"),  # right intent, wrong answer: still right here
        p("faq/esim", "faq", "faq/esim"),
        p("greet", "greet"),
        p("greet", "greet"),
    ]
    assert intent_macro_f1(predictions) == pytest.approx(1.0)


def test_macro_f1_averages_the_true_intents_and_counts_a_fallback_as_a_miss():
    predictions = [
        p("greet", "greet"),
        p("greet", "nlu_fallback"),
        p("stop", "stop"),
        p("stop", "greet"),
    ]
    # greet: P 1/2, R 1/2, F1 0.5; stop: P 1, R 1/2, F1 2/3. nlu_fallback is no class.
    assert intent_macro_f1(predictions) == pytest.approx((0.5 + 2 / 3) / 2)


def test_request_human_precision_and_recall():
    predictions = [
        p("request_human", "request_human"),
        p("request_human", "request_human"),
        p("request_human", "nlu_fallback"),
        p("bot_challenge", "request_human"),
        p("greet", "greet"),
    ]
    precision, recall = intent_precision_recall(predictions, "request_human")
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)


def test_precision_and_recall_are_not_measured_without_predictions_or_truth():
    assert intent_precision_recall([p("greet", "greet")], "request_human") == (None, None)
    precision, recall = intent_precision_recall([p("greet", "request_human")], "request_human")
    assert (precision, recall) == (0.0, None)


def test_an_faq_counts_only_with_the_faq_intent_and_its_own_answer():
    predictions = [
        p("faq/returns", "faq", "faq/returns"),  # right
        p("faq/returns", "faq", "faq/refund_time"),  # wrong answer
        p("faq/returns", "nlu_fallback", "faq/returns"),  # right answer, but the bot falls back
        p("faq/returns", "ask_order_status", "faq/returns"),  # another intent wins
        p("greet", "faq", "faq/returns"),  # not an FAQ: not counted
    ]
    assert faq_top1(predictions) == pytest.approx(1 / 4)
    assert [is_error(x) for x in predictions] == [False, True, True, True, True]


def test_a_declined_faq_counts_as_suggested_when_its_answer_is_on_a_button():
    predictions = [
        p("faq/returns", "faq", "faq/returns"),  # answered
        p(
            "faq/returns", "nlu_fallback", suggested=("faq/refund_time", "faq/returns")
        ),  # one click away
        p("faq/returns", "nlu_fallback", suggested=("faq/refund_time", "faq/esim")),  # not offered
        p("faq/returns", "faq", "faq/refund_time"),  # wrong answer, nothing offered
        p("greet", "nlu_fallback", suggested=("faq/returns",)),  # not an FAQ: not counted
    ]
    assert faq_answered_or_suggested(predictions) == pytest.approx(2 / 4)
    assert faq_top1(predictions) == pytest.approx(1 / 4)


def test_out_of_scope_declined_and_in_scope_wrongly_declined():
    predictions = [
        p("out_of_scope", "out_of_scope"),
        p("out_of_scope", "nlu_fallback"),
        p("out_of_scope", "faq", "faq/returns"),
        p("greet", "greet"),
        p("faq/esim", "nlu_fallback"),
        p("stop", "out_of_scope"),
        p("thank", "thank"),
    ]
    assert out_of_scope_declined(predictions) == pytest.approx(2 / 3)
    assert in_scope_declined(predictions) == pytest.approx(2 / 4)


def test_confusions_are_counted_and_ordered_most_frequent_first():
    predictions = [
        p("stop", "deny"),
        p("greet", "nlu_fallback"),
        p("greet", "nlu_fallback"),
        p("faq/returns", "faq", "faq/refund_time"),
        p("faq/returns", "ask_order_status"),
        p("greet", "greet"),
    ]
    assert [(c.true, c.predicted, c.count) for c in intent_confusions(predictions)] == [
        ("greet", "nlu_fallback", 2),
        ("faq", "ask_order_status", 1),
        ("stop", "deny", 1),
    ]
    assert [(c.true, c.predicted, c.count) for c in faq_confusions(predictions)] == [
        ("faq/returns", "ask_order_status", 1),
        ("faq/returns", "faq/refund_time", 1),
    ]


def test_score_nlu_gathers_every_metric_with_its_support():
    predictions = [
        p("request_human", "request_human"),
        p("faq/esim", "faq", "faq/esim"),
        p("out_of_scope", "nlu_fallback"),
        p("greet", "greet"),
    ]
    scores = score_nlu(predictions)
    assert scores.examples == 4
    assert scores.intent_accuracy == pytest.approx(3 / 4)
    assert (scores.request_human_precision, scores.request_human_recall) == (1.0, 1.0)
    assert (scores.request_human_support, scores.faq_support) == (1, 1)
    assert (scores.out_of_scope_declined, scores.out_of_scope_support) == (1.0, 1)
    assert (scores.in_scope_declined, scores.in_scope_support) == (0.0, 3)
    assert scores.per_intent["out_of_scope"].recall == 0.0
    assert scores.per_intent["faq"].support == 1


def test_nothing_is_measured_on_no_predictions():
    scores = score_nlu([])
    assert scores.examples == 0
    assert scores.intent_macro_f1 is None
    assert scores.faq_top1 is None
    assert scores.request_human_recall is None
    assert scores.out_of_scope_declined is None
