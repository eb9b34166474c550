"""`hotline eval retrieval --via bot`: the same questions through the gateway's POST /api/chat, as residents ask."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hotline.settings import PROJECT_ROOT

pytestmark = [pytest.mark.services, pytest.mark.slow]

HOTLINE = PROJECT_ROOT / ".venv" / "bin" / "hotline"


def test_citations_and_bands_come_back_through_the_gateway_as_from_the_direct_search(gateway_stack, tmp_path: Path) -> None:
    questions = tmp_path / "bot.yaml"
    questions.write_text(
        "questions:\n"
        "  - {id: q1, question: 阳江城乡居民医保个人一年交多少钱, evidence: [个人缴费标准由320元调整为350元, 个人缴费标准为320元]}\n"
        # A follow-up: its context turn goes first, in the same session, and the reply to the question is scored.
        "  - {id: q2, question: 那江苏呢, context: [南昌医保服务圈是几分钟的], evidence: [15分钟医保服务圈],"
        " tags: [follow_up]}\n"
        # A resident's own record, not a policy: the bot asks who they are instead of searching.
        "  - {id: q3, question: 帮我查一下我的个人账户余额, evidence: [个人账户]}\n"
        "  - {id: u1, question: 住房公积金怎么提取出来, answerable: false}\n",
        encoding="utf-8",
    )
    out = tmp_path / "bot.json"
    completed = subprocess.run(
        [str(HOTLINE), "eval", "retrieval", "--questions", str(questions), "--via", "bot",
         "--gateway-url", gateway_stack.gateway_url, "--json", str(out)],
        env=os.environ, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["via"] == "bot" and set(report["methods"]) == {"direct", "bot"}
    bot = report["methods"]["bot"]
    rows = {row["id"]: row for row in bot["rows"]}
    assert rows["q1"]["rank"] is not None and rows["q1"]["band"] in {"confident", "related"}
    assert rows["q1"]["top_title"]  # the citation payload carried the document title
    assert rows["q2"]["routed"]  # the follow-up reached the policy answer after its context turn
    assert rows["u1"]["band"] != "confident" and rows["u1"]["rank"] is None
    assert rows["q3"]["routed"] is False and "身份" in rows["q3"]["note"]
    for key in ("confident_rate_answerable", "related_rate_answerable", "refusal_rate_answerable",
                "confident_rate_unanswerable", "related_rate_unanswerable", "refusal_rate_unanswerable",
                "hit_at_1", "hit_at_3", "hit_at_5", "mrr", "cited_hit_at_1", "cited_hit_at_3",
                "latency_ms_p50", "latency_ms_p95", "answer_rate_answerable", "abstain_rate_unanswerable"):
        assert key in bot, key
    assert bot["per_tag"]["follow_up"]["n_answerable"] == 1

    parity = report["parity"]
    assert (parity["n_answerable"], parity["routed"]) == (3, 2)
    assert [row["id"] for row in parity["misrouted"]] == ["q3"]
