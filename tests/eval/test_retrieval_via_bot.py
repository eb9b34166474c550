"""`hotline eval retrieval --via bot`: the same questions through Rasa's REST webhook and the action server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from hotline.settings import PROJECT_ROOT

pytestmark = [pytest.mark.services, pytest.mark.slow]

HOTLINE = PROJECT_ROOT / ".venv" / "bin" / "hotline"


def test_citations_come_back_through_the_bot_as_from_the_direct_search(bot_stack, tmp_path: Path) -> None:
    questions = tmp_path / "bot.yaml"
    questions.write_text(
        "questions:\n"
        "  - {id: q1, question: 阳江城乡居民医保个人一年交多少钱, evidence: [个人缴费标准由320元调整为350元, 个人缴费标准为320元]}\n"
        "  - {id: q2, question: 南昌医保服务圈是几分钟的, evidence: [打造30分钟服务圈]}\n"
        # A resident's own record, not a policy: the bot asks who they are instead of searching.
        "  - {id: q3, question: 帮我查一下我的个人账户余额, evidence: [个人账户]}\n"
        "  - {id: u1, question: 住房公积金怎么提取出来, answerable: false}\n",
        encoding="utf-8",
    )
    out = tmp_path / "bot.json"
    completed = subprocess.run(
        [str(HOTLINE), "eval", "retrieval", "--questions", str(questions), "--via", "bot", "--json", str(out)],
        env={**os.environ, "RASA_URL": bot_stack.rasa_url}, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["via"] == "bot" and set(report["methods"]) == {"direct", "bot"}
    rows = {row["id"]: row for row in report["methods"]["bot"]["rows"]}
    assert rows["q1"]["rank"] is not None and not rows["q1"]["abstained"]
    assert rows["q1"]["top_title"]  # the citation payload carried the document title
    assert rows["u1"]["rank"] is None and rows["u1"]["abstained"]
    assert "no citation payload" in rows["u1"]["note"]  # the documents do not cover it: declined as out of scope

    parity = report["parity"]
    assert (parity["n_answerable"], parity["routed"], parity["same"]) == (3, 2, 2)
    assert [row["id"] for row in parity["misrouted"]] == ["q3"] and parity["differing"] == []
    assert "身份" in parity["misrouted"][0]["bot_said"]
