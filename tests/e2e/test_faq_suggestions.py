""" "Did you mean…?" on the real model: each suggested question gets its own answer."""

from __future__ import annotations

import pytest
import requests
import yaml

from bot.faq_suggestions import faq_questions
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e


def test_every_faq_question_the_bot_can_suggest_gets_its_own_answer(baton_server):
    # A suggestion button sends its question as the customer's message: the trained
    # model must answer it with the FAQ it was offered for, or the click is wasted.
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    questions = faq_questions(domain["responses"])
    assert len(questions) >= 30
    answered = {}
    for key, question in questions.items():
        response = requests.post(
            f"{baton_server.url}/model/parse",
            headers=baton_server.api_headers(),
            json={"text": question},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        parse_data = response.json()
        answer = ((parse_data.get("response_selector") or {}).get("faq") or {}).get(
            "response"
        ) or {}
        answered[key] = (parse_data["intent"]["name"], answer.get("intent_response_key"))
    assert {key: got for key, got in answered.items() if got != ("faq", key)} == {}
