"""`hotline eval routing`: policy questions through the gateway, counted as routed when the policy answer comes back."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import typer

from eval.routing import DEFAULT_PROBES, corpus_phrasings, read_probe_file
from hotline.settings import PROJECT_ROOT, get_settings

HOTLINE = PROJECT_ROOT / ".venv" / "bin" / "hotline"


def test_a_probe_file_is_one_question_a_line_without_comments(tmp_path: Path) -> None:
    probes = tmp_path / "probes.txt"
    probes.write_text("# 说明\n\n医保卡丢了咋整\n  异地就医要备案吗  # 常见问题\n", encoding="utf-8")
    assert read_probe_file(probes) == ["医保卡丢了咋整", "异地就医要备案吗"]

    empty = tmp_path / "empty.txt"
    empty.write_text("# 只有注释\n", encoding="utf-8")
    with pytest.raises(typer.BadParameter, match="没有问题"):
        read_probe_file(empty)
    assert len(read_probe_file(DEFAULT_PROBES)) >= 100
    assert len(corpus_phrasings(Path(get_settings().corpus_dir))) >= 1000


@pytest.mark.services
@pytest.mark.slow
def test_questions_the_bot_takes_for_something_else_are_listed(gateway_stack, tmp_path: Path) -> None:
    probes = tmp_path / "probes.txt"
    # The second is a lookup, not a policy question: the identity form comes back, so it is counted as misrouted.
    probes.write_text("阳江城乡居民医保个人一年交多少钱\n帮我查一下我的个人账户余额\n", encoding="utf-8")
    out = tmp_path / "routing.json"
    completed = subprocess.run(
        [str(HOTLINE), "eval", "routing", "--questions", str(probes), "--gateway-url", gateway_stack.gateway_url,
         "--json", str(out)],
        env=os.environ, capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [source] = json.loads(out.read_text(encoding="utf-8"))["sources"]
    assert (source["asked"], source["routed"]) == (2, 1)
    [miss] = source["misrouted"]
    assert miss["question"] == "帮我查一下我的个人账户余额" and "身份" in miss["bot_said"]
