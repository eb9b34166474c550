"""Specification of the NLU training data (bot/data): enough varied examples per intent, no example taught as
two intents, every entity annotated, regexes that match what they are meant to match.

Read with PyYAML and a small parser for Rasa's annotation syntax, so these run in the project venv without Rasa.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from actions.domain.phrasing import (
    asks_a_follow_up,
    asks_about_insurance,
    asks_about_own_records,
    asks_how_a_rule_applies,
    asks_how_filing_works,
)
from hotline.settings import PROJECT_ROOT

DATA_DIR = PROJECT_ROOT / "bot" / "data"
DOMAIN_FILE = PROJECT_ROOT / "bot" / "domain.yml"

INTENTS = {
    "greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "chitchat", "out_of_scope",
    "policy_question", "check_enrollment", "check_contributions", "check_account_balance",
    "check_reimbursement", "check_offsite_filing", "check_e_voucher", "report_fraud", "complaint",
    "request_human", "give_rating", "ask_ticket_progress", "inform",
}
# "How does X work" vs "what is MY X" is the hard distinction, so these need many more examples.
CRUX_INTENTS = {
    "policy_question", "check_enrollment", "check_contributions", "check_account_balance",
    "check_reimbursement", "check_offsite_filing", "check_e_voucher",
}
ENTITIES = {"person_name", "id_number", "phone", "region", "period", "rating"}

# [text](entity) or [text]{"entity": "...", "value": "..."}
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|(?P<json>\{[^}]+\}))")


@dataclass(frozen=True)
class Entity:
    entity: str
    text: str
    value: str


@dataclass(frozen=True)
class Example:
    intent: str
    text: str  # annotations removed: what the resident typed
    entities: tuple[Entity, ...]


def parse_example(intent: str, raw: str) -> Example:
    entities: list[Entity] = []

    def plain(match: re.Match[str]) -> str:
        text = match["text"]
        if match["entity"]:
            entities.append(Entity(match["entity"], text, text))
        else:
            spec = yaml.safe_load(match["json"])
            entities.append(Entity(spec["entity"], text, str(spec.get("value", text))))
        return text

    return Example(intent, ANNOTATION.sub(plain, raw), tuple(entities))


def _examples_block(block: str) -> list[str]:
    return [line[2:].strip() for line in block.splitlines() if line.startswith("- ")]


@dataclass(frozen=True)
class NluData:
    examples: list[Example]
    regexes: dict[str, list[str]]
    lookups: dict[str, list[str]]
    synonyms: dict[str, str]  # surface form → value


def load_nlu_data(data_dir: Path) -> NluData:
    examples: list[Example] = []
    regexes: dict[str, list[str]] = defaultdict(list)
    lookups: dict[str, list[str]] = defaultdict(list)
    synonyms: dict[str, str] = {}
    for path in sorted(data_dir.rglob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            lines = _examples_block(item["examples"])
            if "intent" in item:
                examples.extend(parse_example(item["intent"], line) for line in lines)
            elif "regex" in item:
                regexes[item["regex"]].extend(lines)
            elif "lookup" in item:
                lookups[item["lookup"]].extend(lines)
            elif "synonym" in item:
                synonyms.update({line: item["synonym"] for line in lines})
    return NluData(examples, dict(regexes), dict(lookups), synonyms)


@pytest.fixture(scope="module")
def nlu() -> NluData:
    return load_nlu_data(DATA_DIR)


def _normalise(text: str) -> str:
    """Two examples that differ only in punctuation, spacing or width teach the same thing."""
    text = text.translate({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)})
    return re.sub(r"[\s，。！？、,.!?~…]+", "", text).lower()


def test_every_intent_has_at_least_twenty_examples(nlu: NluData) -> None:
    counts = Counter(example.intent for example in nlu.examples)

    assert set(counts) == INTENTS
    assert {intent: n for intent, n in counts.items() if n < 20} == {}


def test_policy_and_account_intents_have_at_least_fifty_examples(nlu: NluData) -> None:
    counts = Counter(example.intent for example in nlu.examples)

    assert {intent: counts[intent] for intent in CRUX_INTENTS if counts[intent] < 50} == {}


def test_training_intents_match_the_domain(nlu: NluData) -> None:
    if not DOMAIN_FILE.exists():
        pytest.skip("bot/domain.yml not written yet")
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))

    assert set(domain["intents"]) == {example.intent for example in nlu.examples}
    assert ENTITIES <= set(domain["entities"])


def test_no_example_is_taught_twice(nlu: NluData) -> None:
    intents_by_text: dict[str, set[str]] = defaultdict(set)
    occurrences = Counter(_normalise(example.text) for example in nlu.examples)
    for example in nlu.examples:
        intents_by_text[_normalise(example.text)].add(example.intent)

    assert {text: intents for text, intents in intents_by_text.items() if len(intents) > 1} == {}
    assert {text: n for text, n in occurrences.items() if n > 1} == {}


def test_every_entity_is_annotated_in_several_examples(nlu: NluData) -> None:
    counts = Counter(entity.entity for example in nlu.examples for entity in example.entities)

    assert set(counts) == ENTITIES
    assert {entity: n for entity, n in counts.items() if n < 10} == {}


def test_annotations_are_balanced(nlu: NluData) -> None:
    leftovers = [example.text for example in nlu.examples if re.search(r"\]\(|\]\{|^\[|\[[^\]]*\]$", example.text)]

    assert leftovers == []


def test_id_number_regex_matches_every_annotated_id_and_no_phone(nlu: NluData) -> None:
    patterns = [re.compile(p) for p in nlu.regexes["id_number"]]
    ids = [e.text for ex in nlu.examples for e in ex.entities if e.entity == "id_number"]
    phones = [e.text for ex in nlu.examples for e in ex.entities if e.entity == "phone"]

    assert all(any(p.fullmatch(text) for p in patterns) for text in ids), ids
    assert not any(p.search(text) for p in patterns for text in phones)


def test_phone_regex_matches_mobiles_and_last_four_digits_but_not_years_or_ids(nlu: NluData) -> None:
    patterns = [re.compile(p) for p in nlu.regexes["phone"]]
    phones = [e.text for ex in nlu.examples for e in ex.entities if e.entity == "phone"]

    def matches(text: str) -> bool:
        return any(p.search(text) for p in patterns)

    assert all(any(p.fullmatch(text) for p in patterns) for text in phones), phones
    assert matches("手机尾号5678")
    assert matches("13912345678") and matches("139****5678")
    assert not matches("2024年的缴费记录")
    assert not matches("身份证号110101199003071234") and not matches("身份证号1101**********1234")


def test_period_regex_matches_years_and_months(nlu: NluData) -> None:
    patterns = [re.compile(p) for p in nlu.regexes["period"]]

    for text in ("2024年", "3月份", "12月", "十二月"):
        assert any(p.fullmatch(text) for p in patterns), text


def test_name_regexes_mark_introduced_and_bare_names_only(nlu: NluData) -> None:
    patterns = [re.compile(p) for p in nlu.regexes["person_name"]]

    def names(text: str) -> set[str]:
        return {match.group() for p in patterns for match in p.finditer(text)}

    assert names("王小明") == {"王小明"}
    assert names("俺叫马红梅") == {"马红梅"}
    assert names("我叫周建华，帮我查参保状态") == {"周建华"}
    assert names("姓名是徐建国") == {"徐建国"}
    assert names("我想问一下王小明的医保") == set()
    assert names("谢谢") == set()


def test_annotated_regions_are_known_places(nlu: NluData) -> None:
    known = set(nlu.lookups["region"])
    regions = {e.value for ex in nlu.examples for e in ex.entities if e.entity == "region"}

    assert regions - known == set()


def test_region_synonyms_drop_the_administrative_suffix_only(nlu: NluData) -> None:
    region_synonyms = {form: value for form, value in nlu.synonyms.items() if form.endswith(("省", "市"))}

    assert region_synonyms["江西省"] == "江西"
    assert region_synonyms["周口市"] == "周口"
    assert all(form[:-1] == value for form, value in region_synonyms.items())


def test_rating_values_are_a_small_fixed_set(nlu: NluData) -> None:
    ratings = {
        nlu.synonyms.get(e.text, e.value) for ex in nlu.examples for e in ex.entities if e.entity == "rating"
    }

    assert ratings <= {"满意", "基本满意", "不满意", "很好", "一般", "很差", "好评", "差评",
                       "1星", "2星", "3星", "4星", "5星"}


def test_annotated_synonym_values_agree_with_the_synonym_table(nlu: NluData) -> None:
    disagreements = [
        (e.text, e.value, nlu.synonyms[e.text])
        for ex in nlu.examples for e in ex.entities
        if e.text in nlu.synonyms and e.value != e.text and e.value != nlu.synonyms[e.text]
    ]

    assert disagreements == []


def test_short_follow_ups_are_policy_questions(nlu: NluData) -> None:
    policy = {_normalise(ex.text) for ex in nlu.examples if ex.intent == "policy_question"}

    for follow_up in ("那职工呢？", "周口呢？", "这个要多久？", "那门诊呢", "异地的呢"):
        assert _normalise(follow_up) in policy, follow_up


def test_account_lookups_speak_of_the_residents_own_records(nlu: NluData) -> None:
    # The premise of action_check_identity: a lookup names the resident (我/本人 …) or asks for one (查/帮 …).
    lookups = [ex.text for ex in nlu.examples if ex.intent in CRUX_INTENTS - {"policy_question"}]
    without = [text for text in lookups if not asks_about_own_records(text)]

    assert len(without) <= 0.03 * len(lookups), without


def test_few_taught_lookups_read_as_asking_how_a_rule_applies(nlu: NluData) -> None:
    # The premise of the rule said before the identity form: taught lookups of a record's state never read so;
    # the two that do ask "how much each month", which the rule answers as well as the record.
    lookups = [ex.text for ex in nlu.examples if ex.intent in CRUX_INTENTS - {"policy_question"}]
    rule_like = [text for text in lookups if asks_about_own_records(text) and asks_how_a_rule_applies(text)]

    assert len(lookups) > 300 and len(rule_like) <= 2, rule_like
    assert all("每个月" in text or "每月" in text for text in rule_like), rule_like


def test_no_taught_small_talk_asks_about_a_medical_insurance_matter(nlu: NluData) -> None:
    # The premise of action_small_talk answering such a message from the documents in all three bands.
    small_talk = [ex.text for ex in nlu.examples if ex.intent in {"greet", "chitchat"}]

    assert len(small_talk) > 200 and [text for text in small_talk if asks_about_insurance(text)] == []


def test_an_asking_preamble_is_not_a_resident_speaking_of_their_records() -> None:
    assert not asks_about_own_records("我想问问门诊统筹是啥意思")
    assert not asks_about_own_records("我想咨询一下慢特病的认定流程")
    assert asks_about_own_records("我想问一下我的医保交了没")
    assert asks_about_own_records("我想查一下余额")


def test_reports_and_complaints_are_never_mere_questions_about_filing(nlu: NluData) -> None:
    # The premise of action_escalate_to_human: what it answers instead of filing is never a taught report.
    filed = [ex.text for ex in nlu.examples if ex.intent in {"report_fraud", "complaint"}]

    assert [text for text in filed if asks_how_filing_works(text)] == []


def test_no_taught_yes_or_no_reads_as_a_follow_up_question(nlu: NluData) -> None:
    # The premise of action_acknowledge: what it answers as a follow-up is never a taught yes or no.
    yes_no = [ex.text for ex in nlu.examples if ex.intent in {"affirm", "deny"}]

    assert yes_no and [text for text in yes_no if asks_a_follow_up(text)] == []


def test_parse_example_reads_both_annotation_forms() -> None:
    example = parse_example("inform", '我叫[王小明](person_name)，在[江西省]{"entity": "region", "value": "江西"}')

    assert example.text == "我叫王小明，在江西省"
    assert example.entities == (Entity("person_name", "王小明", "王小明"), Entity("region", "江西省", "江西"))
