"""A question about ratings, 差评 or 回访 is a policy question; a rating states a verdict and asks nothing."""

from __future__ import annotations

import pytest

from actions.domain.phrasing import asks_about_rating_rules
from hotline.settings import PROJECT_ROOT

from .test_nlu_data import load_nlu_data


@pytest.mark.parametrize("text", [
    "我对上次的服务不满意，给了差评，多久会有人回访我",
    "好差评结果有什么用",
    "差评以后会不会有人打电话",
    "我对你们的答复不满意，可以申请复核吗",
])
def test_questions_about_ratings_are_recognised(text: str) -> None:
    assert asks_about_rating_rules(text)


@pytest.mark.parametrize("text", ["差评", "非常满意", "服务很好，给个好评", "不满意", '/give_rating{"rating": "满意"}'])
def test_ratings_themselves_are_not_questions(text: str) -> None:
    assert not asks_about_rating_rules(text)


def test_no_taught_rating_reads_as_a_question_about_ratings() -> None:
    # The premise of the cue in action_record_rating: what it answers from the documents is never a taught rating.
    nlu = load_nlu_data(PROJECT_ROOT / "bot" / "data")
    ratings = [ex.text for ex in nlu.examples if ex.intent == "give_rating"]
    assert ratings and [text for text in ratings if asks_about_rating_rules(text)] == []


def test_questions_about_ratings_are_taught_as_policy_questions() -> None:
    nlu = load_nlu_data(PROJECT_ROOT / "bot" / "data")
    policy = [ex.text for ex in nlu.examples if ex.intent == "policy_question"]
    assert sum(asks_about_rating_rules(text) for text in policy) >= 10
