"""`rasa test` on the end-to-end test conversations: every intent and every next action predicted as written."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from hotline.settings import PROJECT_ROOT, get_settings

pytestmark = [pytest.mark.services, pytest.mark.slow]

BOT_DIR = PROJECT_ROOT / "bot"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "rasa-test"


def test_every_test_conversation_is_predicted_correctly(bot_stack) -> None:
    settings = get_settings()
    model = settings.rasa_model_dir / "hotline.tar.gz"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [str(settings.rasa_executable), "test", "core", "--e2e",
         "--model", str(model), "--stories", "tests", "--endpoints", "endpoints.yml",
         "--out", str(ARTIFACTS), "--no-plot", "--successes"],
        cwd=BOT_DIR, capture_output=True, text=True, timeout=900,
        # The action server of the running stack: endpoints.yml reads its URL from the environment.
        env={**os.environ, "ACTION_SERVER_URL": bot_stack.action_server_url,
             "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    (ARTIFACTS / "rasa-test.log").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]

    failed = (ARTIFACTS / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed, failed[:6000]
    report = json.loads((ARTIFACTS / "story_report.json").read_text(encoding="utf-8"))
    print(f"rasa test: {_summary(report)}; details in {ARTIFACTS}")


def _summary(report: dict) -> str:
    totals = {key: report[key] for key in ("accuracy", "macro avg", "weighted avg") if key in report}
    return json.dumps(totals, ensure_ascii=False)[:400]


