"""The deployment files cannot be built here (no base images), so they are checked against the code that starts the
same processes: each Dockerfile runs the command hotline/processes.py runs, exposes the port the settings name, and
sets only variables some process reads; the compose file publishes the gateway alone and wires the pairs as the
gateway expects them."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from hotline.processes import (
    action_server_spec,
    gateway_spec,
    rasa_secrets_env,
    rasa_server_spec,
    rasa_store_env,
    rasa_thread_env,
)
from hotline.secrets import SECRETS
from hotline.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
# Read by libraries or Python, not by the settings: allowed in the images.
RUNTIME_VARIABLES = {"PYTHONUNBUFFERED", "PROMETHEUS_MULTIPROC_DIR", "OMP_NUM_THREADS", "RASA_TELEMETRY_ENABLED",
                     "TF_CPP_MIN_LOG_LEVEL", "LOG_FORMAT"}
SETTINGS_VARIABLES = {name.upper() for name in Settings.model_fields}


@dataclass
class Dockerfile:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    expose: list[int] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    workdir: str = ""
    copied: list[str] = field(default_factory=list)


def parse_dockerfile(path: Path) -> Dockerfile:
    """The instructions this test needs (FROM, ENV, EXPOSE, CMD in exec form, WORKDIR, COPY), continuations joined."""
    import json

    result = Dockerfile()
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        match instruction.upper():
            case "FROM":
                result.base = rest.strip()
            case "ENV":
                for pair in shlex.split(rest):
                    key, _, value = pair.partition("=")
                    result.env[key] = value
            case "EXPOSE":
                result.expose += [int(port) for port in rest.split()]
            case "CMD":
                result.cmd = json.loads(rest)
            case "WORKDIR":
                result.workdir = rest.strip()
            case "COPY":
                result.copied += rest.split()[:-1]  # every source; the last word is the destination
            case "RUN" | "ARG":
                pass
            case _:
                raise AssertionError(f"{path.name}: unexpected instruction {instruction}")
    return result


def image_settings(env: dict[str, str]) -> Settings:
    """The settings a container of that image would read (its ENV over the defaults)."""
    return Settings(**{key.lower(): value for key, value in env.items() if key in SETTINGS_VARIABLES})


def test_the_gateway_image_runs_what_hotline_processes_runs() -> None:
    image = parse_dockerfile(DEPLOY / "Dockerfile.gateway")
    settings = image_settings(image.env)
    spec = gateway_spec(settings)
    assert image.base.startswith("python:3.11")
    assert image.cmd[0] == "python" and image.cmd[1:] == spec.argv[1:]
    assert image.expose == [settings.gateway_port] == [Settings().gateway_port]
    assert set(image.env) <= SETTINGS_VARIABLES | RUNTIME_VARIABLES


def test_the_action_server_image_runs_what_hotline_processes_runs() -> None:
    image = parse_dockerfile(DEPLOY / "Dockerfile.actions")
    settings = image_settings(image.env)
    spec = action_server_spec(settings)
    assert image.base.startswith("python:3.11")
    assert image.cmd[0] == "python" and image.cmd[1:] == spec.argv[1:]
    assert image.expose == [settings.action_server_port] == [Settings().action_server_port]
    assert set(image.env) <= SETTINGS_VARIABLES | RUNTIME_VARIABLES
    assert image.env["ACTION_SERVER_HOST"] == "0.0.0.0"  # the private network, not loopback, inside a container


def test_the_rasa_image_runs_what_hotline_processes_runs() -> None:
    image = parse_dockerfile(DEPLOY / "Dockerfile.rasa")
    settings = Settings(rasa_host="0.0.0.0", rasa_endpoints_file="endpoints.production.yml",
                        rasa_tracker_store_url="postgresql://hotline@postgres:5432/hotline", rasa_threads=1)
    spec = rasa_server_spec(settings)
    assert image.base.startswith("python:3.10")  # Rasa 3.6 runs on Python 3.8–3.10 only
    assert image.workdir == "/app/bot" and spec.cwd == PROJECT_ROOT / "bot"
    bot = PROJECT_ROOT / "bot"
    expected = [str(Path(arg).relative_to(bot)) if arg.startswith(str(bot)) else arg for arg in spec.argv[1:]]
    assert image.cmd[0] == "python" and image.cmd[1:] == expected
    assert image.expose == [settings.rasa_port]
    passed = {**rasa_secrets_env(settings), **rasa_store_env(settings), **rasa_thread_env(1), **spec.env}
    assert set(image.env) <= set(passed) | RUNTIME_VARIABLES | {"PYTHONUNBUFFERED"}
    assert {"hotline/__init__.py", "hotline/privacy.py", "hotline/hop_signature.py",
            "hotline/structured_logs.py"} <= set(image.copied)  # what bot/ imports from hotline


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_only_the_gateway_is_published(compose: dict) -> None:
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"gateway"}
    assert services["gateway"]["ports"] == [f"{Settings().gateway_port}:{Settings().gateway_port}"]
    assert compose["networks"]["private"]["internal"] is True
    for name, service in services.items():
        assert "private" in service["networks"], name
        assert ("public" in service["networks"]) == (name == "gateway"), name


def test_every_variable_in_compose_is_read_by_some_process(compose: dict) -> None:
    rasa_variables = set(rasa_store_env(Settings(rasa_tracker_store_url="postgresql://x@y/z"))) | {
        "ACTION_SERVER_URL"}
    for name, service in compose["services"].items():
        if name in ("postgres", "redis"):
            continue
        variables = set(service.get("environment", {}))
        allowed = rasa_variables if name.startswith("rasa") else SETTINGS_VARIABLES
        assert variables <= allowed, (name, variables - allowed)
        assert service["env_file"] == "secrets.env"
        dockerfile = DEPLOY.parent / service["build"]["dockerfile"]
        assert dockerfile.exists(), dockerfile


def test_the_gateway_is_told_the_pairs_the_compose_file_runs(compose: dict) -> None:
    services = compose["services"]
    gateway = services["gateway"]["environment"]
    rasa_urls = gateway["RASA_URLS"].split(",")
    action_urls = gateway["ACTION_SERVER_URLS"].split(",")
    assert len(rasa_urls) == len(action_urls) >= 2
    for number, (rasa_url, action_url) in enumerate(zip(rasa_urls, action_urls, strict=True), start=1):
        rasa, actions = urlsplit(rasa_url), urlsplit(action_url)
        assert rasa.hostname == f"rasa-{number}" and rasa.hostname in services
        assert rasa.port == parse_dockerfile(DEPLOY / "Dockerfile.rasa").expose[0]
        assert actions.hostname == f"actions-{number}" and actions.port == Settings().action_server_port
        assert actions.path == "/webhook"
        # Each Rasa server calls the action server of its own pair.
        assert services[f"rasa-{number}"]["environment"]["ACTION_SERVER_URL"] == action_url
    assert gateway["RASA_URL"] == rasa_urls[0] and gateway["ACTION_SERVER_URL"] == action_urls[0]


def test_the_deployment_guide_names_every_secret() -> None:
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for spec in SECRETS:
        assert f"{spec.variable}=" in guide, spec.variable


def test_make_run_prod_starts_production_mode() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "run-prod: setup\n\t$(HOTLINE) run-prod" in makefile
