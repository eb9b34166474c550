"""Session fixtures that run the real assistant: action server + Rasa server (+ gateway), started once per run.

They use the same supervisor as `hotline run` (hotline/processes.py), a fresh seeded SQLite database,
and free loopback ports, so a developer's running `make run` does not interfere.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.processes import (
    ServiceGroup,
    action_server_spec,
    free_port,
    gateway_spec,
    rasa_server_spec,
)
from hotline.settings import PROJECT_ROOT, Settings, get_settings

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
HOTLINE = PROJECT_ROOT / ".venv" / "bin" / "hotline"


def pytest_configure(config: pytest.Config) -> None:
    """Random secrets for this run, in the environment every started process inherits, so nothing depends on
    development defaults or on a developer's var/secrets.env (SECRETS_FILE points at an empty place)."""
    from hotline.secrets import SECRETS

    for spec in SECRETS:
        wechat = spec.variable == "WECHAT_TOKEN"  # WeChat accepts letters and digits only
        os.environ[spec.variable] = secrets.token_hex(16) if wechat else secrets.token_urlsafe(40)
    os.environ["SECRETS_FILE"] = str(Path(tempfile.mkdtemp(prefix="hotline-secrets-")) / "secrets.env")
    get_settings.cache_clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`privacy_scan` tests read what the whole run's conversations left behind: they run last."""
    items.sort(key=lambda item: item.get_closest_marker("privacy_scan") is not None)


# Every test conversation comes from 127.0.0.1 and the same few demo residents: the per-client identity limits
# (casework.verification) would lock the whole run out. Per-ID-number and per-conversation limits stay as shipped.
STACK_IDENTITY_LIMITS = {"IDENTITY_FAILURES_PER_CLIENT": "100000", "IDENTITY_ID_NUMBERS_PER_CLIENT": "100000"}
STACK_LOG_NAMES = ("actions.log", "rasa.log", "gateway.log")  # in Stack.log_dir, this run's only


@dataclass(frozen=True)
class Stack:
    database_url: str
    action_server_url: str
    rasa_url: str
    gateway_url: str | None = None
    log_dir: Path = ARTIFACTS / "logs"  # the session stack's: <pytest tmp>/stack-state*/logs (see bot_stack)

    def settings(self) -> Settings:
        """Settings as the stack's processes read them (this run's secrets, the stack's database)."""
        return Settings(database_url=self.database_url, rasa_url=self.rasa_url,
                        action_server_url=self.action_server_url)


@pytest.fixture(scope="session")
def stack_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database seeded with the fictitious demo residents, through the project's own command."""
    url = f"sqlite:///{tmp_path_factory.mktemp('stack') / 'hotline.db'}"
    subprocess.run([str(HOTLINE), "db", "setup"], env={**os.environ, "DATABASE_URL": url}, check=True)
    return url


@pytest.fixture(scope="session")
def stack_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test stack writes its files (audit log, spools), instead of the developer's var/."""
    return tmp_path_factory.mktemp("stack-state")


@pytest.fixture(scope="session")
def bot_stack(stack_database_url: str, stack_state_dir: Path) -> Iterator[Stack]:
    settings = get_settings()
    model = settings.rasa_model_dir / "hotline.tar.gz"
    if not model.exists():
        pytest.fail(f"没有训练好的 Rasa 模型 {model}：先运行 `make bot`（`make test` 会自动训练）")
    action_port, rasa_port = free_port(), free_port()
    action_server_url = f"http://127.0.0.1:{action_port}/webhook"
    specs = [
        action_server_spec(settings, action_port),
        rasa_server_spec(settings, rasa_port, action_server_url=action_server_url, model=model),
    ]
    env = {"DATABASE_URL": stack_database_url, "AUDIT_LOG_FILE": str(stack_state_dir / "audit.log"),
           "SPOOL_DIR": str(stack_state_dir / "spool"), **STACK_IDENTITY_LIMITS}
    # This run's own log directory: other test runs on the machine write theirs elsewhere, and the privacy
    # scan reads exactly what this run's processes wrote.
    log_dir = stack_state_dir / "logs"
    with ServiceGroup(specs, log_dir=log_dir, env=env):
        yield Stack(stack_database_url, action_server_url, f"http://127.0.0.1:{rasa_port}", log_dir=log_dir)


@pytest.fixture(scope="session")
def gateway_stack(bot_stack: Stack, stack_state_dir: Path) -> Iterator[Stack]:
    port = free_port()
    spec = gateway_spec(get_settings(), port, rasa_url=bot_stack.rasa_url,
                        action_server_url=bot_stack.action_server_url)
    # Rate limits lifted: the story replays and the browser tests all come from one IP within minutes.
    unlimited = "100000"
    env = {"DATABASE_URL": bot_stack.database_url, "SPOOL_DIR": str(stack_state_dir / "spool"),
           "GATEWAY_RATE_PER_SENDER": unlimited, "GATEWAY_RATE_PER_IP": unlimited,
           "GATEWAY_SESSIONS_PER_IP": unlimited, **STACK_IDENTITY_LIMITS}
    with ServiceGroup([spec], log_dir=bot_stack.log_dir, env=env):
        yield Stack(bot_stack.database_url, bot_stack.action_server_url, bot_stack.rasa_url,
                    gateway_url=f"http://127.0.0.1:{port}", log_dir=bot_stack.log_dir)
