"""Start, health-check and stop the assistant's three processes: action server, Rasa server, gateway.

`hotline run` and the end-to-end tests use the same code, so what the tests exercise is what residents get.

    specs = [action_server_spec(settings), rasa_server_spec(settings), gateway_spec(settings)]
    with ServiceGroup(specs, log_dir=settings.log_dir) as group:   # starts in order, each healthy before the next
        ...                                                      # group.urls["rasa"] etc.
    # leaving the block stops every process group (SIGTERM, then SIGKILL): no orphans

Each process runs in its own session (process group), so a server's worker processes stop with it.
The tests start the real stack once per run through the session fixtures in `tests/conftest.py`
(`bot_stack`: action server + Rasa server; `gateway_stack`: the gateway in front of them).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from hotline.settings import PROJECT_ROOT, Settings

VENV_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"


class ServiceStartError(RuntimeError):
    """A process exited or did not become healthy in time; the message carries the tail of its log."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    argv: list[str]
    health_url: str
    cwd: Path = PROJECT_ROOT
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 120.0

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:5005` for a health URL on that host and port."""
        scheme, _, host, *_ = self.health_url.split("/")
        return f"{scheme}//{host}"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now (for tests and parallel runs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _python() -> str:
    return str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))


def loopback_if_wildcard(host: str) -> str:
    """Where this machine reaches a server bound to `host` (a wildcard bind is reached on loopback)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def action_server_spec(settings: Settings, port: int | None = None, name: str = "actions") -> ServiceSpec:
    port = port or settings.action_server_port
    return ServiceSpec(
        name=name,
        # actions/server.py: rasa-sdk's app behind ACTION_SERVER_SECRET, bound to settings.action_server_host.
        argv=[_python(), "-m", "actions.server", "--port", str(port)],
        health_url=f"http://{loopback_if_wildcard(settings.action_server_host)}:{port}/health",
        # The action server reads its settings (secrets included) from the environment and the secrets file,
        # like this process; only the port is handed over.
        env={"ACTION_SERVER_PORT": str(port), "OMP_NUM_THREADS": str(max(1, settings.torch_threads))},
    )


def rasa_server_spec(
    settings: Settings,
    port: int | None = None,
    action_server_url: str | None = None,
    model: Path | None = None,
    name: str = "rasa",
) -> ServiceSpec:
    port = port or settings.rasa_port
    token = settings.rasa_token.get_secret_value()
    host = settings.rasa_host
    return ServiceSpec(
        name=name,
        # bot/rasa_server.py hands RASA_TOKEN to `rasa run --enable-api` inside its process: no secret in argv
        argv=[
            str(settings.rasa_executable.parent / "python"), str(PROJECT_ROOT / "bot" / "rasa_server.py"),
            "--interface", host,  # loopback by default: residents reach Rasa through the gateway only
            "--port", str(port),
            "--model", str(model or settings.rasa_model_dir / "hotline.tar.gz"),
            "--endpoints", settings.rasa_endpoints_file,
            "--credentials", "credentials.yml",
        ],
        # /status needs the token and answers only once the model is loaded.
        health_url=f"http://{loopback_if_wildcard(host)}:{port}/status?token={token}",
        cwd=PROJECT_ROOT / "bot",
        env={
            **rasa_secrets_env(settings),
            **rasa_store_env(settings),
            **rasa_thread_env(settings.rasa_threads),
            "ACTION_SERVER_URL": action_server_url or settings.action_server_url,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "LOG_FORMAT": settings.log_format,
        },
        startup_timeout=240.0,
    )


RASA_LOCK_LIFETIME_SECONDS = 15


def rasa_store_env(settings: Settings) -> dict[str, str]:
    """Where endpoints.production.yml keeps conversations (PostgreSQL) and their locks (Redis, from REDIS_URL).
    Empty without a tracker store URL: endpoints.yml keeps both in the Rasa process's memory."""
    if not settings.rasa_tracker_store_url:
        return {}
    from urllib.parse import urlsplit

    redis = urlsplit(settings.redis_url or "redis://127.0.0.1:6379/1")
    # Rasa's lock keys need an alphanumeric prefix; derived from the gateway's so deployments sharing a Redis
    # keep apart.
    prefix = "".join(ch for ch in settings.redis_key_prefix if ch.isalnum()) or "hotline"
    return {
        "RASA_TRACKER_STORE_URL": settings.rasa_tracker_store_url,
        "POSTGRESQL_SCHEMA": settings.rasa_tracker_store_schema,  # read by Rasa's SQL tracker store
        "RASA_LOCK_STORE_HOST": redis.hostname or "127.0.0.1",
        "RASA_LOCK_STORE_PORT": str(redis.port or 6379),
        "RASA_LOCK_STORE_DB": redis.path.strip("/") or "0",
        "RASA_LOCK_STORE_PREFIX": prefix,
        # A Rasa server that dies holding a conversation's lock leaves it in Redis until its ticket expires, and
        # the next server waits that long (Rasa's default: 60 s). The gateway's own turn lock already keeps one
        # conversation to one turn at a time, so the lock may expire sooner.
        "TICKET_LOCK_LIFETIME": str(RASA_LOCK_LIFETIME_SECONDS),
    }


def rasa_thread_env(threads: int) -> dict[str, str]:
    """TensorFlow's thread pools (Rasa reads TF_*_PARALLELISM_THREADS); 0 leaves TensorFlow's defaults."""
    if threads <= 0:
        return {}
    return {"TF_INTRA_OP_PARALLELISM_THREADS": str(threads), "TF_INTER_OP_PARALLELISM_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads)}


def rasa_secrets_env(settings: Settings) -> dict[str, str]:
    """What Rasa's process needs from the settings it cannot read itself (its venv has no pydantic 2):
    the API token (bot/rasa_server.py), the channel secret (credentials.yml), the action server secret
    (endpoints.yml). Environment, never argv: `ps` shows every user the command lines."""
    return {
        "RASA_TOKEN": settings.rasa_token.get_secret_value(),
        "RASA_CHANNEL_SECRET": settings.rasa_channel_secret.get_secret_value(),
        "RASA_SIGNATURE_MAX_AGE": str(settings.rasa_signature_max_age),
        "ACTION_SERVER_SECRET": settings.action_server_secret.get_secret_value(),
    }


def gateway_spec(settings: Settings, port: int | None = None, rasa_url: str | None = None,
                 action_server_url: str | None = None, workers: int | None = None) -> ServiceSpec:
    port = port or settings.gateway_port
    env = {"GATEWAY_PORT": str(port), "RASA_URL": rasa_url or settings.rasa_url}
    if action_server_url:
        env["ACTION_SERVER_URL"] = action_server_url
    argv = [_python(), "-m", "uvicorn", "channels.app:app", "--host", settings.gateway_host, "--port", str(port)]
    workers = workers or settings.gateway_workers
    if workers > 1:
        argv += ["--workers", str(workers)]
    return ServiceSpec(name="gateway", argv=argv, health_url=f"http://127.0.0.1:{port}/healthz", env=env)


def stack_on_free_ports(settings: Settings) -> tuple[list[ServiceSpec], dict[str, str]]:
    """The three processes on free loopback ports (benchmarks, evaluations): their specs, and the URLs
    `action_server` (the webhook), `rasa` and `gateway`."""
    action_port, rasa_port, gateway_port = free_port(), free_port(), free_port()
    urls = {
        "action_server": f"http://127.0.0.1:{action_port}/webhook",
        "rasa": f"http://127.0.0.1:{rasa_port}",
        "gateway": f"http://127.0.0.1:{gateway_port}",
    }
    specs = [
        action_server_spec(settings, action_port),
        rasa_server_spec(settings, rasa_port, action_server_url=urls["action_server"]),
        gateway_spec(settings, gateway_port, rasa_url=urls["rasa"], action_server_url=urls["action_server"]),
    ]
    return specs, urls


@dataclass
class RunningService:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash would (fault tests)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


class ServiceGroup:
    """Starts services in order (each healthy before the next) and stops them in reverse order."""

    def __init__(self, specs: list[ServiceSpec], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.specs = specs
        self.log_dir = log_dir
        self.env = env or {}  # added to every service's environment, e.g. a test database's DATABASE_URL
        self.running: list[RunningService] = []

    @property
    def urls(self) -> dict[str, str]:
        return {service.spec.name: service.spec.base_url for service in self.running}

    def start(self) -> None:
        """Start the specs one after the other, each healthy before the next."""
        for spec in self.specs:
            self.start_together([spec])

    def start_together(self, specs: list[ServiceSpec]) -> list[RunningService]:
        """Launch `specs` at once (e.g. two Rasa servers, which take a minute or two each to load) and wait
        until every one is healthy; on failure everything this group started is stopped."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        started: list[RunningService] = []
        try:
            for spec in specs:
                started.append(self._launch(spec))
                self.running.append(started[-1])
            for service in started:
                self._wait_until_healthy(service)
        except BaseException:
            self.stop()
            raise
        return started

    def _launch(self, spec: ServiceSpec) -> RunningService:
        log_path = self.log_dir / f"{spec.name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                spec.argv, cwd=spec.cwd, env={**os.environ, **self.env, **spec.env},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        return RunningService(spec, process, log_path)

    def _wait_until_healthy(self, service: RunningService) -> None:
        spec, process, log_path = service.spec, service.process, service.log_path
        deadline = time.monotonic() + spec.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceStartError(
                    f"{spec.name} exited with code {process.returncode}; log {log_path}:\n{service.log_tail()}"
                )
            if _is_healthy(spec.health_url):
                return
            time.sleep(0.5)
        service.stop()
        raise ServiceStartError(
            f"{spec.name} was not healthy after {spec.startup_timeout:.0f}s; log {log_path}:\n{service.log_tail()}"
        )

    def stop(self) -> None:
        for service in reversed(self.running):
            service.stop()
        self.running.clear()

    def service(self, name: str) -> RunningService:
        return next(service for service in self.running if service.spec.name == name)

    def restart(self, names: list[str]) -> None:
        """Stop the named services (if still running) and start them again together, same specs."""
        services = [self.service(name) for name in names]
        for service in services:
            service.stop()
            self.running.remove(service)
        self.start_together([service.spec for service in services])

    def __enter__(self) -> ServiceGroup:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _is_healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False
