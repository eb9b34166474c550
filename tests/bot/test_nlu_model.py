"""The trained model (bot/models/hotline.tar.gz) understands a few sentences it never saw in training.

Rasa runs in its own venv, so the sentences are parsed by a short script under .venv-rasa's Python, the same
NLU path as `/model/parse`. Skipped when the model or the Rasa venv is missing (`make bot` builds both).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from typing import Any

import pytest

from hotline.settings import PROJECT_ROOT, get_settings

pytestmark = pytest.mark.slow

PARSE_SCRIPT = """
import asyncio, json, sys
from rasa.core.agent import Agent

async def main():
    agent = Agent.load(sys.argv[1])
    results = [await agent.parse_message(text) for text in json.load(sys.stdin)]
    print(json.dumps(results, ensure_ascii=False))

asyncio.run(main())
"""

# (sentence, intent, {entity: value}) — phrased differently from every training example.
CASES: list[tuple[str, str, dict[str, str]]] = [
    ("你好啊，请问在吗", "greet", {}),
    ("在外地住院了医保怎么报销啊", "policy_question", {}),
    ("周口的大病保险咋报销的", "policy_question", {"region": "周口"}),
    ("麻烦帮我查一下我的异地备案办好没有", "check_offsite_filing", {}),
    ("我那个医保卡里还剩几个钱", "check_account_balance", {}),
    ("我叫李建华", "inform", {"person_name": "李建华"}),
    # What Rasa gets: the gateway masks ID numbers and phones before relaying (casework/sealed_ids.py).
    ("身份证是3601**********1234", "inform", {"id_number": "3601**********1234"}),
    ("我手机号是139****6789", "inform", {"phone": "139****6789"}),
    ("给我转个人工吧", "request_human", {}),
]


@pytest.fixture(scope="module")
def parses() -> list[dict[str, Any]]:
    settings = get_settings()
    model = settings.rasa_model_dir / "hotline.tar.gz"
    python = settings.rasa_executable.parent / "python"
    if not model.exists() or not python.exists():
        pytest.skip(f"needs the trained model {model} and the Rasa venv (make bot)")
    completed = subprocess.run(
        [str(python), "-c", PARSE_SCRIPT, str(model)],
        input=json.dumps([sentence for sentence, _, _ in CASES]), capture_output=True, text=True, check=True,
        timeout=300,
        # From bot/, as Rasa runs: the pipeline's custom component (nlu_components.text_normalizer) is found there.
        cwd=settings.rasa_model_dir.parent,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)), ids=[c[0] for c in CASES])
def test_unseen_sentence_is_understood(parses: list[dict[str, Any]], index: int, case: tuple) -> None:
    _sentence, intent, entities = case
    parse = parses[index]

    assert parse["intent"]["name"] == intent, parse["intent_ranking"][:3]
    found = {entity["entity"]: entity["value"] for entity in parse["entities"]}
    assert {name: found.get(name) for name in entities} == entities


def test_rasas_training_cache_key_follows_the_normalisation_rules() -> None:
    """Rasa reuses a cached component when its config and inputs are unchanged; the rules' source is part of the
    key, so editing knowledge_base/normalization.py retrains on texts normalised the new way."""
    settings = get_settings()
    python = settings.rasa_executable.parent / "python"
    if not python.exists():
        pytest.skip(f"needs the Rasa venv {python} (make bot)")
    script = "from nlu_components.text_normalizer import TextNormalizer; print(TextNormalizer.fingerprint_addon({}))"
    completed = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True,
                               timeout=120, cwd=settings.rasa_model_dir.parent)
    rules = PROJECT_ROOT / "knowledge_base" / "normalization.py"
    assert completed.stdout.strip().splitlines()[-1] == hashlib.sha256(rules.read_bytes()).hexdigest()
