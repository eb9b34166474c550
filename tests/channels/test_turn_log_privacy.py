"""The turn log keeps policy questions for analytics, never identity details (issue 9, finding 5)."""

from __future__ import annotations

from channels.rasa_client import BotReply
from channels.turn_log import turn_of

ANSWERED = BotReply([{"recipient_id": "x", "text": "…", "custom": {"band": "refused", "abstain": True,
                                                                    "citations": []}}], "nlu_fallback", 0.4)
ASKED_WHICH_RECORD = BotReply([{"recipient_id": "x", "text": "请问您想查询哪项个人信息？"}], "inform", 0.9)


def test_a_policy_question_is_kept_and_a_bare_name_is_not() -> None:
    assert turn_of("web", "web:a", "异地就医怎么备案", ANSWERED).question == "异地就医怎么备案"
    for name in ("张演示", "/张演示", " 欧阳娜娜 "):
        assert turn_of("web", "web:a", name, ANSWERED).question == ""


def test_identity_details_outside_a_policy_answer_are_not_kept() -> None:
    turn = turn_of("web", "web:a", "我叫张演示，身份证3601**********9014", ASKED_WHICH_RECORD)
    assert turn.question == ""
