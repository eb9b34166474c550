"""`rasa data validate` finds nothing wrong with the domain, stories and rules."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from hotline.settings import PROJECT_ROOT, get_settings

BOT_DIR = PROJECT_ROOT / "bot"

# Rasa 3.6's validator does not know that a form asks for its slots with `utter_ask_<slot>`, that
# action_default_fallback sends `utter_default`, nor which responses our custom actions send by name, so it
# reports those responses as unused. Those are the only warnings this test tolerates.
_UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
# A response name written in the actions' code, passed as `response="utter_…"` or kept in a table by intent.
_SENT_BY_ACTIONS = re.compile(r"""["'](utter_\w+)["']""")


def _responses_sent_by_actions() -> set[str]:
    sources = (PROJECT_ROOT / "actions").rglob("*.py")
    return {"utter_default"} | {name for path in sources for name in _SENT_BY_ACTIONS.findall(path.read_text("utf-8"))}


@pytest.mark.slow
def test_rasa_data_validate_reports_no_problem() -> None:
    rasa = get_settings().rasa_executable
    if not rasa.exists():
        pytest.fail(f"{rasa} 不存在：先运行 `make setup` 创建 Rasa 环境")
    completed = subprocess.run(
        [str(rasa), "data", "validate", "--domain", "domain.yml", "--data", "data", "--config", "config.yml"],
        cwd=BOT_DIR, capture_output=True, text=True, timeout=300,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]

    form_slots = {
        slot for form in yaml.safe_load((BOT_DIR / "domain.yml").read_text(encoding="utf-8"))["forms"].values()
        for slot in form["required_slots"]
    }
    tolerated = _responses_sent_by_actions() | {f"utter_ask_{slot}" for slot in form_slots}
    problems = []
    for line in output.splitlines():
        if "UserWarning" not in line and " ERROR " not in line:
            continue
        unused = _UNUSED_RESPONSE.search(line)
        if unused and unused.group(1) in tolerated:
            continue
        problems.append(line.strip())
    assert problems == [], "\n".join(problems)
    assert "No story structure conflicts found" in output
