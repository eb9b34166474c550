"""Shared fixtures: the real corpus, settings pointing at temporary index folders, and one built knowledge base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotline.settings import PROJECT_ROOT, Settings

CORPUS_DIR = PROJECT_ROOT / "knowledge_base" / "corpus"


def model_available(settings: Settings) -> bool:
    return Path(settings.embedding_model).exists()


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(index_dir=tmp_path_factory.mktemp("index") / "index")


@pytest.fixture(scope="session")
def knowledge_base(kb_settings: Settings):
    """The real knowledge base (real embedding model, real corpus), built once for the test session."""
    if not model_available(kb_settings):
        pytest.skip(f"嵌入模型尚未构建（{kb_settings.embedding_model}）：请先运行 `hotline model build`")
    from knowledge_base.search import KnowledgeBase

    return KnowledgeBase.load(kb_settings)


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """A corpus folder holding two of the real documents (with their metadata), safe to edit."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for stem in ("jiangsu-2021-convenience-services-opinion", "yangjiang-medical-insurance-work-plan"):
        for suffix in (".txt", ".meta.yaml"):
            shutil.copy(CORPUS_DIR / f"{stem}{suffix}", corpus / f"{stem}{suffix}")
            (corpus / f"{stem}{suffix}").chmod(0o644)
    return corpus
