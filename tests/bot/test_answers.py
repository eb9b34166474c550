"""Policy replies quote and cite the documents and add no facts of their own; abstentions say so plainly."""

from __future__ import annotations

import re
from dataclasses import replace

from actions.domain.answers import ABSTAIN_TEXT, compose_policy_answer, quote, source_line, suggestions
from knowledge_base.types import Passage, SearchResult

LONG_PASSAGE = (
    "全面落实基本医疗保险市级统筹。健全重特大疾病医疗保险和救助制度。"
    "完善异地就医直接结算服务，简化异地就医备案手续，推进住院费用跨省直接结算。"
    "加强医保基金监管，严厉打击欺诈骗保行为。推进医保信息化标准化建设，推广医保电子凭证应用。"
    "落实长期护理保险制度试点任务，探索建立多层次保障体系，提升经办服务水平，方便群众办事。"
)


def passage(chunk_id: str, text: str, score: float, title: str = "周口市“十四五”医疗保障规划",
            section: str = "第三章 健全多层次医疗保障体系 > 一、完善基本医疗保险", region: str = "河南省周口市",
            band: str = "") -> Passage:
    return Passage(chunk_id, "zhoukou", title, section, region, text, score, band=band)


def test_answer_leads_quotes_and_cites_the_best_passage() -> None:
    best = passage("c1", "推进住院费用跨省直接结算，简化异地就医备案手续。", 0.9)
    answer = compose_policy_answer(SearchResult("异地就医怎么备案", [best], False, 0.9, "周口"))
    lines = answer.text.split("\n")
    assert lines[0] == "关于您问的问题，《周口市“十四五”医疗保障规划》中是这样规定的："
    assert lines[1] == "“推进住院费用跨省直接结算，简化异地就医备案手续。”"
    assert "第三章 健全多层次医疗保障体系，一、完善基本医疗保险" in lines[2] and "河南省周口市" in lines[2]
    assert answer.payload == {
        "band": "confident",
        "citations": [{"chunk_id": "c1", "doc_title": best.doc_title, "section": best.section,
                       "region": best.region, "text": best.text, "lead": "", "score": 0.9}],
        "abstain": False,
    }
    assert answer.buttons == []


def test_every_number_in_the_answer_comes_from_a_quoted_passage() -> None:
    best = passage("c1", "政策范围内住院费用支付比例达到70%左右，咨询电话12393。", 0.9)
    answer = compose_policy_answer(SearchResult("住院报销比例", [best], False, 0.9, "周口"))
    numbers = set(re.findall(r"\d+", answer.text))
    assert numbers <= set(re.findall(r"\d+", best.text + best.doc_title + best.section))


def test_long_passage_is_trimmed_to_the_sentences_about_the_question() -> None:
    excerpt = quote(LONG_PASSAGE, "异地就医备案手续", limit=60)
    assert "简化异地就医备案手续" in excerpt
    assert len(excerpt) <= 62
    assert excerpt.startswith("…") and excerpt.endswith("…")


def test_runners_up_the_model_reads_as_possibly_answering_are_further_sources_at_most_two() -> None:
    result = SearchResult("异地就医", [
        passage("c1", "推进住院费用跨省直接结算。", 0.95, band="confident"),
        passage("c2", "与问题无关的段落。", 0.03, section="第六章", band="refused"),
        passage("c3", "完善异地就医直接结算服务。", 0.2, title="南昌市医疗保障“十四五”规划", region="江西省南昌市",
                band="related"),
        passage("c4", "简化异地就医备案手续。", 0.1, section="第四章", band="related"),
        passage("c5", "异地就医费用直接结算。", 0.09, section="第五章", band="related"),
    ], False, 0.95, None)
    answer = compose_policy_answer(result)
    assert [c["chunk_id"] for c in answer.citations] == ["c1", "c3", "c4"]
    assert "相关规定还可参考" in answer.text and "南昌市医疗保障“十四五”规划" in answer.text
    assert "与问题无关" not in answer.text


def test_abstention_says_the_documents_do_not_cover_it_and_offers_a_human() -> None:
    answer = compose_policy_answer(SearchResult("火星上能用医保吗", [passage("c1", "无关", 0.01)], True, 0.01, None))
    assert answer.abstain and answer.text == ABSTAIN_TEXT
    assert "没有找到" in answer.text and "转人工" in answer.text
    assert answer.payload == {"band": "refused", "citations": [], "abstain": True}
    assert {"title": "转人工", "payload": "/request_human"} in answer.buttons


def test_lead_names_the_region_when_the_title_does_not() -> None:
    best = passage("c1", "文本。", 0.9, title="关于优化医保领域便民服务的实施意见", region="江苏省")
    answer = compose_policy_answer(SearchResult("q", [best], False, 0.9, "江苏"))
    assert answer.text.startswith("关于您问的问题，江苏省的《关于优化医保领域便民服务的实施意见》")


def test_source_line_leaves_out_missing_parts() -> None:
    assert source_line(passage("c", "x", 1.0, section="", region="")) == "《周口市“十四五”医疗保障规划》"


def test_the_answer_quotes_the_sentence_that_answers_and_cites_the_whole_passage() -> None:
    text = "职工医保个人账户由个人缴费划入。普通门诊统筹支付比例从50%起步，逐步提高待遇保障水平。"
    best = replace(passage("c1", text, 0.9), lead="普通门诊统筹支付比例从50%起步，逐步提高待遇保障水平。")
    answer = compose_policy_answer(SearchResult("周口职工看普通门诊能报销多少", [best], False, 0.9, "周口"))
    assert answer.text.split("\n")[1] == "“普通门诊统筹支付比例从50%起步，逐步提高待遇保障水平。”"
    assert answer.citations[0]["text"] == text  # the whole passage, one tap away on the web page
    assert answer.citations[0]["lead"] == best.lead


def test_related_passages_are_marked_as_possibly_related_never_as_an_answer() -> None:
    result = SearchResult("退休人员异地安置怎么报", [passage("c1", "推进异地就医直接结算。", 0.4),
                                                passage("c2", "简化备案手续。", 0.3, section="第四章"),
                                                passage("c3", "第三段。", 0.2, section="第五章")],
                          abstain=True, confidence=0.4, region=None, band="related")
    answer = compose_policy_answer(result)
    assert answer.band == "related" and answer.abstain
    assert answer.text.startswith("抱歉，政策文件里没有找到对这个问题的确切规定。以下条文可能相关")
    assert answer.text.count("【可能相关】") == 2 and "第三段" not in answer.text
    assert "中是这样规定的" not in answer.text  # never worded as an answer
    assert [c["chunk_id"] for c in answer.citations] == ["c1", "c2"]
    assert answer.payload["band"] == "related"
    assert {"title": "转人工", "payload": "/request_human"} in answer.buttons


def test_suggestions_give_agents_the_sentence_passage_source_and_confidence() -> None:
    first = replace(passage("c1", "第一句。支付比例从50%起步。", 0.91, band="confident"), lead="支付比例从50%起步。")
    second = passage("c2", "另一段。", 0.2, section="第四章", band="related")
    result = SearchResult("普通门诊报多少", [first, second], False, 0.91, "周口", band="confident")
    first_suggestion, second_suggestion = suggestions(result, k=3)
    assert (first_suggestion.sentence, first_suggestion.passage) == ("支付比例从50%起步。", first.text)
    assert first_suggestion.source.startswith("《周口市") and first_suggestion.confidence == 0.91
    assert (first_suggestion.band, second_suggestion.band) == ("confident", "related")
