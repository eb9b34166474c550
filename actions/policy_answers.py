"""Answering policy questions from the official documents: a cited answer, possibly related passages, or an
honest refusal (the three bands of ``actions.domain.answers``)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import latest_intent, latest_text
from actions.domain.answers import HUMAN_BUTTONS, compose_policy_answer, compose_rule_aside
from actions.domain.followups import FollowUp, rewrite_follow_up
from actions.domain.phrasing import asks_a_follow_up, asks_about_insurance, request_button
from actions.handover import escalate
from actions.knowledge import knowledge_base, loaded_knowledge_base, start_loading
from casework.enums import TicketCategory
from hotline.privacy import install_log_masking
from knowledge_base.errors import EmptyQuestionError
from knowledge_base.regions import detect_region, names_other_place
from knowledge_base.types import SearchResult

logger = logging.getLogger(__name__)

# Two "not in the documents" in a row: the resident needs a person, not a third attempt.
ABSTENTIONS_BEFORE_ESCALATION = 2

STARTING_UP_TEXT = "系统刚刚启动，政策文件还在加载中，请您稍等半分钟再问一次。给您带来不便，敬请谅解。"
# Below rasa-sdk's 60-second response timeout, so the resident gets STARTING_UP_TEXT instead of silence.
KNOWLEDGE_BASE_WAIT_SECONDS = 40

REQUEST_OFFER_TEXT = "政策文件里没有找到这个问题的直接规定。如需{request}，请点击下方按钮；也可以转人工咨询。"
WHICH_RECORD_TEXT = (
    "请问您想查询哪项个人信息？例如：参保状态、缴费记录、个人账户余额、报销进度、异地就医备案或医保电子凭证。"
)
# Entities that mean the resident is giving personal details, not asking about a policy.
_PERSONAL_ENTITIES = {"person_name", "id_number", "phone"}
# An unclear message shorter than this ("嗯", "啊？") is not worth a search, nor an abstention on the count.
_MIN_FALLBACK_QUESTION_CHARS = 4
# What a greeting or chitchat gets when the documents do not answer it outright (action_small_talk).
SMALL_TALK_RESPONSES = {"greet": "utter_greet", "chitchat": "utter_chitchat"}

# rasa-sdk has no start-up hook and imports this module at start: mask personal data in every log line from
# here on, and begin loading the index and model, so the first question does not pay for it. rasa-sdk serves
# from Sanic worker processes, which import the actions again; only a worker answers requests, so only a worker
# loads (the primary process would hold a second copy of the model for nothing). Elsewhere (tests, scripts)
# the knowledge base loads at the first question.
install_log_masking()
if os.environ.get("SANIC_WORKER_NAME"):
    start_loading()


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker).strip()
        intent = latest_intent(tracker)
        # Small talk that asks about a 医保 matter is a question the classifier misread: answered in all three bands.
        small_talk = None if asks_about_insurance(text) else SMALL_TALK_RESPONSES.get(intent or "")
        # "你好" is not worth a search, and "您好，我叫王小明" is never searched: the pleasantry at once.
        if small_talk and (len(text) < _MIN_FALLBACK_QUESTION_CHARS or _carries_personal_details(tracker)):
            dispatcher.utter_message(response=small_talk)
            return []
        if intent == "inform" and _carries_personal_details(tracker):
            # Personal details outside a lookup are never sent to retrieval (nor written to its logs).
            dispatcher.utter_message(text=WHICH_RECORD_TEXT)
            return []
        if intent == "nlu_fallback" and 0 < len(text) < _MIN_FALLBACK_QUESTION_CHARS:
            dispatcher.utter_message(response="utter_default")
            return []
        question = rewrite_follow_up(
            text,
            # "你好" after an answer greets; it does not narrow the previous question.
            previous_topic=None if small_talk else tracker.get_slot("last_policy_topic"),
            previous_region=tracker.get_slot("last_region"),
            detect_region=detect_region,
            names_other_place=names_other_place,
        )
        if question.is_follow_up:
            logger.info("follow-up %r rewritten as %r (region %s)", text, question.question, question.region)
        try:
            await asyncio.wait_for(asyncio.to_thread(knowledge_base), KNOWLEDGE_BASE_WAIT_SECONDS)
            result = await asyncio.to_thread(_search, question)
        except EmptyQuestionError as error:
            dispatcher.utter_message(text=str(error))
            return []
        except TimeoutError:
            # Only right after a start on a busy machine: say so rather than let Rasa time the action out.
            logger.warning("knowledge base still loading after %ss", KNOWLEDGE_BASE_WAIT_SECONDS)
            dispatcher.utter_message(text=STARTING_UP_TEXT)
            return []

        # A follow-up of a policy question is about 医保 whatever the classifier guessed.
        maybe_out_of_scope = intent == "out_of_scope" and not question.is_follow_up
        answer = compose_policy_answer(result, maybe_out_of_scope=maybe_out_of_scope)
        # An account question about the rules (action_check_identity) or a question about reports
        # (action_escalate_to_human) is answered here, beside a button that does what the intent would have done.
        request = request_button(intent)
        if answer.band == "confident":
            buttons = [request] if request else []
            dispatcher.utter_message(text=answer.text, buttons=buttons, json_message=answer.payload)
            return [
                SlotSet("last_policy_topic", question.question),
                SlotSet("last_region", result.region or question.region),
                SlotSet("abstain_streak", 0.0),
            ]

        if small_talk:
            # Only an answer outranks the pleasantry: passages "possibly related" to 你吃饭了吗 would be noise.
            dispatcher.utter_message(response=small_talk)
            return []
        if request:
            # Not answered by the documents, so most likely the request after all: offer it (beside any possibly
            # related passages) rather than count an abstention.
            text = answer.text if answer.band == "related" else REQUEST_OFFER_TEXT.format(request=request["title"])
            dispatcher.utter_message(text=text, buttons=[request, HUMAN_BUTTONS[0]], json_message=answer.payload)
            return []

        # "Related" passages are not an answer: like a refusal, the reply counts towards the hand-over. The topic
        # is kept, so a narrowing follow-up ("那退休的呢") still knows what it follows.
        keep_topic = [SlotSet("last_policy_topic", question.question),
                      SlotSet("last_region", result.region or question.region)] if answer.band == "related" else []
        if intent == "out_of_scope":
            # The documents outrank the classifier. Passages that may be related are shown under "this may not be
            # a 医保 question" (the classifier is often wrong about 医保 questions in residents' words); with none,
            # the question is outside the hotline's remit (养老金, 公积金 …). Neither counts as an abstention.
            if answer.band == "related":
                dispatcher.utter_message(text=answer.text, buttons=answer.buttons, json_message=answer.payload)
                return keep_topic
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        streak = int(tracker.get_slot("abstain_streak") or 0) + 1
        if streak < ABSTENTIONS_BEFORE_ESCALATION:
            dispatcher.utter_message(text=answer.text, buttons=answer.buttons, json_message=answer.payload)
            return [SlotSet("abstain_streak", float(streak)), *keep_topic]

        # Second reply in a row without an answer: no buttons to click, a ticket is opened right away.
        dispatcher.utter_message(text=answer.text, json_message=answer.payload)
        logger.info("no answer %d times in a row (latest intent %s, band %s): escalating", streak, intent, answer.band)
        return [SlotSet("abstain_streak", 0.0), *keep_topic, *escalate(dispatcher, tracker, TicketCategory.UNANSWERED)]


async def tell_the_rule(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Before the identity check for a first-person question that asks how a rule applies ("我个人账户还照常进钱
    不"): the rule from the documents, or possibly related passages, so the resident has it whichever was meant.
    Said only when the documents are loaded and the message carries no personal details; never a refusal."""
    kb = loaded_knowledge_base()
    if kb is None or _carries_personal_details(tracker):
        return
    try:
        result = await asyncio.to_thread(kb.search, latest_text(tracker))
    except EmptyQuestionError:
        return
    aside = compose_rule_aside(result)
    if aside is not None:
        dispatcher.utter_message(text=aside.text, json_message=aside.payload)


def _carries_personal_details(tracker: Tracker) -> bool:
    """The latest message names a person or gives an ID or phone number: it is never sent to retrieval."""
    return bool({e.get("entity") for e in tracker.latest_message.get("entities") or []} & _PERSONAL_ENTITIES)


def _search(question: FollowUp) -> SearchResult:
    return knowledge_base().search(question.question, region=question.region)


class ActionSmallTalk(ActionAnswerPolicy):
    """A greeting or chitchat gets its friendly reply, unless the documents answer the message outright: the
    classifier sometimes takes a 医保 question in residents' words ("我的医保信息会不会被泄露出去") for chitchat.
    ``ActionAnswerPolicy`` reads the intent and says the pleasantry for anything short of a confident answer."""

    def name(self) -> str:
        return "action_small_talk"


class ActionAcknowledge(Action):
    """A yes or no outside any question: "what else can I do for you". The classifier sometimes takes a short
    follow-up ("低保户呢", "不同级别的医院一样吗") for one; after a policy answer it is answered as the follow-up."""

    def name(self) -> str:
        return "action_acknowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("last_policy_topic") and asks_a_follow_up(latest_text(tracker)):
            return await ActionAnswerPolicy().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_anything_else")
        return []
