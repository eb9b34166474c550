"""First step of the NLU pipeline: the resident's text normalised the way the knowledge base's search sees it.

Traditional characters, full-width forms, dialect words and frequent typos ("異地就醫", "俺", "新农合", "报消")
become the simplified, standard words the training data and the documents use, so the classifier sends such a
policy question to the policy answer. The tracker keeps what the resident typed (``UserUttered.text``); the
parse result's ``text``, which the actions read, is the normalised one. Labelled entity spans of the training
examples are moved with the text.

The rules live in ``knowledge_base/normalization.py`` (pure Python + OpenCC), loaded here by file path: Rasa
runs in its own environment (``.venv-rasa``) where the project's packages are not installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

_NORMALIZATION_FILE = Path(__file__).resolve().parents[2] / "knowledge_base" / "normalization.py"


def _load_normalization():  # type: ignore[no-untyped-def]
    name = "hotline_text_normalization"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _NORMALIZATION_FILE)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormalizer(GraphComponent):
    """Rewrites each message's text in place before tokenisation (no features, nothing to train)."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The rules' source joins Rasa's cache key, so editing them retrains on texts normalised the new way."""
        return hashlib.sha256(_NORMALIZATION_FILE.read_bytes()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TextNormalizer":
        return cls()

    def __init__(self) -> None:
        self._normalization = _load_normalization()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message)
        return messages

    def _normalize(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        normalized, offsets = self._normalization.normalize_with_offsets(text)
        if normalized == text:
            return
        entities = message.get(ENTITIES)
        if entities:
            moved = []
            for entity in entities:
                start, end = offsets[entity["start"]], offsets[entity["end"]]
                value = entity.get("value")
                if value == text[entity["start"]:entity["end"]]:
                    value = normalized[start:end]
                moved.append({**entity, "start": start, "end": end, "value": value})
            message.set(ENTITIES, moved)
        message.set(TEXT, normalized)
