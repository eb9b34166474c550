"""Secrets: generated on first start (owner-only file), overridden by the environment, refused when weak."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hotline.secrets import SECRETS, InsecureSettings, ensure_secrets_file, read_secrets_file
from hotline.settings import Settings

STRONG = {spec.field: "s" * 48 for spec in SECRETS}


def test_first_start_writes_every_secret_into_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    added = ensure_secrets_file(path)
    assert set(added) == {spec.variable for spec in SECRETS if spec.generated}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = read_secrets_file(path)
    assert all(len(values[name]) >= 32 for name in added)
    assert values["WECHAT_TOKEN"].isalnum() and len(values["WECHAT_TOKEN"]) == 32  # what WeChat accepts
    assert len(set(values.values())) == len(values)


def test_a_second_start_keeps_the_secrets_and_makes_a_readable_file_private(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    ensure_secrets_file(path)
    before = path.read_text()
    path.chmod(0o644)
    assert ensure_secrets_file(path) == []
    assert path.read_text() == before and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_settings_read_the_file_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secrets.env"
    ensure_secrets_file(path)
    monkeypatch.setenv("SECRETS_FILE", str(path))
    monkeypatch.delenv("GATEWAY_SECRET", raising=False)
    monkeypatch.setenv("RASA_TOKEN", "from-the-environment-" + "x" * 20)
    settings = Settings()
    assert settings.gateway_secret.get_secret_value() == read_secrets_file(path)["GATEWAY_SECRET"]
    assert settings.rasa_token.get_secret_value() == "from-the-environment-" + "x" * 20


def test_production_refuses_a_development_default_naming_the_variable() -> None:
    with pytest.raises(InsecureSettings) as refused:
        Settings(hotline_env="production", **{**STRONG, "rasa_token": "local-dev-rasa-token"})
    assert "RASA_TOKEN" in str(refused.value) and "GATEWAY_SECRET" not in str(refused.value)
    assert "local-dev-rasa-token" not in str(refused.value)  # the refusal never prints a secret


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(InsecureSettings) as refused:
        Settings(hotline_env="production", **{**STRONG, "action_server_secret": "short-secret"})
    assert "ACTION_SERVER_SECRET" in str(refused.value) and "32" in str(refused.value)
    assert "short-secret" not in str(refused.value)


def test_production_starts_with_strong_secrets() -> None:
    assert Settings(hotline_env="production", **STRONG).hotline_env == "production"
