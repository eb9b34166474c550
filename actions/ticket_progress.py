""" "我的工单办得怎么样了": the state of the resident's tickets, in plain words, for the chat that opened them."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_text
from actions.domain.phrasing import asks_about_own_records, asks_about_rating_rules, asks_how_a_rule_applies
from actions.policy_answers import ActionAnswerPolicy
from casework.column_types import CHINA_TZ
from casework.db import session_scope
from casework.enums import TicketStatus
from casework.tickets import TicketView, due_text, ticket_progress, tickets_for_sender

TICKET_NUMBER = re.compile(r"12393-\d{8}-\d{4}")

STAGE_TEXT: dict[TicketStatus, str] = {
    TicketStatus.RECEIVED: "已受理，正在等待分派给工作人员",
    TicketStatus.DISPATCHED: "已派单，正在等待工作人员接手办理",
    TicketStatus.HANDLING: "工作人员正在办理",
    TicketStatus.SUPERVISED: "已超过承诺时限，已启动督办，正在加快办理",
    TicketStatus.ANSWERED: "工作人员已经答复，正在等待您的评价",
    TicketStatus.CLOSED: "已办结",
    TicketStatus.FOLLOWED_UP: "已安排回访",
    TicketStatus.RATED: "已办结",
}
NOT_YOURS = (
    "没有查到工单{number}，或者它不是在当前这个聊天窗口中登记的。为保护个人信息，"
    "这里只能查询在本窗口登记的工单；如需帮助，可以说“转人工”。"
)
NO_TICKETS = "您在这个聊天窗口中还没有登记过工单。如果需要人工帮助，可以说“转人工”，我会为您登记。"
RATE_HINT = "您可以直接回复“满意”“基本满意”或“不满意”进行评价。"


def progress_text(view: TicketView) -> str:
    """One ticket's state as told to its resident: what stage, what is promised, what they can do."""
    created = view.created_at.astimezone(CHINA_TZ)
    parts = [
        f"您的工单{view.number}（{view.category}，{created.month}月{created.day}日登记）{STAGE_TEXT[view.status]}"
    ]
    if view.merged_into:
        parts.append(f"已与您的工单{view.merged_into}合并办理，请以该工单的进展为准")
    elif view.status in (TicketStatus.RECEIVED, TicketStatus.DISPATCHED, TicketStatus.HANDLING):
        parts.append(f"承诺在{due_text(view.due_at)}答复您")
    elif view.status is TicketStatus.FOLLOWED_UP and view.callback_due is not None:
        parts.append(f"工作人员会在{due_text(view.callback_due)}与您联系并反馈整改情况")
    elif view.status is TicketStatus.RATED and view.rating is not None:
        parts.append(f"您的评价是“{view.rating}”，感谢您的反馈")
    text = "，".join(parts) + "。"
    return text + RATE_HINT if view.rateable and view.rating is None else text


class ActionTicketProgress(Action):
    def name(self) -> str:
        return "action_ticket_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        if asks_about_rating_rules(text):  # "办完了会有人回访吗": how 回访 works, for the documents
            return await ActionAnswerPolicy().run(dispatcher, tracker, domain)
        named = TICKET_NUMBER.search(text)
        with session_scope() as session:
            if named:
                view = ticket_progress(session, named.group(0), sender_id=tracker.sender_id)
                views = [view] if view else []
            else:
                views = tickets_for_sender(session, tracker.sender_id)
        if not named and not views and (not asks_about_own_records(text) or asks_how_a_rule_applies(text)):
            # "工单一般多久能办完", "给我派了工单，有没有规定限时办完": how tickets work, and no ticket of this chat to
            # tell about: the documents answer it.
            return await ActionAnswerPolicy().run(dispatcher, tracker, domain)
        if named and not views:
            dispatcher.utter_message(text=NOT_YOURS.format(number=named.group(0)))
        elif not views:
            dispatcher.utter_message(text=NO_TICKETS)
        else:
            dispatcher.utter_message(text="\n".join(progress_text(view) for view in views))
        return []
