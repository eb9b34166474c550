"""What the gateway records of a turn: outcome from the bot messages' payload, never the sender id itself."""

from casework.enums import TurnOutcome
from channels.rasa_client import BotReply
from channels.turn_log import turn_of


def _reply(*payloads: dict, intent: str | None = "policy_question") -> BotReply:
    messages = [{"recipient_id": "web:x", "text": "…"}] + [
        {"recipient_id": "web:x", "custom": p} for p in payloads
    ]
    return BotReply(messages, intent, 0.8)


CITATION = {
    "chunk_id": "nanchang-3",
    "doc_title": "《南昌市医疗保障规划》",
    "section": "第二章",
    "region": "江西省南昌市",
}


def test_a_confident_answer_names_its_passage() -> None:
    turn = turn_of("web", "web:abc", "门诊怎么报销", _reply({"band": "confident", "citations": [CITATION]}))
    assert turn.outcome is TurnOutcome.ANSWERED and turn.answer_chunk_id == "nanchang-3"
    assert turn.answer_source == "《南昌市医疗保障规划》 · 第二章 · 江西省南昌市"
    assert "abc" not in turn.conversation and turn.conversation.startswith("h")


def test_refusals_tickets_and_other_turns() -> None:
    refused = turn_of(
        "wechat", "wechat:o1", "养老金", _reply({"band": "refused", "abstain": True, "citations": []})
    )
    ticket = turn_of(
        "web",
        "web:a",
        "转人工",
        _reply({"ticket": {"number": "12393-20261123-0001"}}, intent="request_human"),
    )
    greeting = turn_of("web", "web:a", "你好", _reply(intent="greet"))
    older = turn_of("web", "web:a", "问", _reply({"abstain": False, "citations": [CITATION]}))  # no band yet
    assert (refused.outcome, refused.band, refused.channel) == (TurnOutcome.ABSTAINED, "refused", "wechat")
    assert (ticket.outcome, ticket.ticket_number) == (TurnOutcome.TICKET, "12393-20261123-0001")
    assert greeting.outcome is TurnOutcome.OTHER and greeting.band is None
    assert older.outcome is TurnOutcome.ANSWERED and older.band == "confident"
    assert (
        turn_of("web", "web:a", "x", _reply()).conversation
        == turn_of("web", "web:a", "y", _reply()).conversation
    )
