"""Production mode on this machine: PostgreSQL and Redis, several Rasa servers each with its own action server,
and a gateway of several workers. `make run-prod` runs `hotline run-prod`; `hotline run` keeps the embedded
defaults (SQLite, one process each).

    settings = production_settings(get_settings(), Topology())      # what every process is told, by environment
    prepare_databases(settings)                                     # database, tracker schema, migrations, demo data
    group = ServiceGroup([], log_dir, env=environment(settings))
    for tier in service_tiers(settings, Topology()):                # action servers, Rasa servers, gateway
        group.start_together(tier)

Everything is configured by environment (the variables of `PASSED_SETTINGS`), so the same code runs the
containers of deploy/compose.yaml, where each service is on its own host and only the gateway is published.
The tests (tests/production/) and the load generator (eval/load.py) start the same tiers on free ports.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import typer
from rich.console import Console

from hotline.processes import ServiceSpec, action_server_spec, free_port, gateway_spec, rasa_server_spec
from hotline.settings import VAR_DIR, Settings

app = typer.Typer()
console = Console()

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULT_DATABASE = "hotline_prod"  # its own database: the `test` database belongs to the test suites
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PRODUCTION_ENDPOINTS = "endpoints.production.yml"
RASA_STARTUP_SECONDS = 600.0
# The settings every process of the production tiers receives (as upper-case environment variables).
PASSED_SETTINGS = (
    "database_url", "redis_url", "redis_key_prefix", "rasa_endpoints_file", "rasa_tracker_store_url",
    "rasa_tracker_store_schema", "rasa_urls", "action_server_urls", "rasa_url", "action_server_url",
    "rasa_host", "action_server_host", "log_format", "torch_threads", "rasa_threads", "gateway_workers",
    "spool_dir", "log_dir",
)


@dataclass(frozen=True)
class Topology:
    """How many of each process, on which ports, with how many threads each."""

    pairs: int = 2
    gateway_workers: int = 2
    gateway_port: int = 8000
    rasa_ports: tuple[int, ...] = (5005, 5006)
    action_ports: tuple[int, ...] = (5055, 5056)
    # Threads per Rasa and action server process. Two pairs on two cores: one each, so no process's thread pool
    # spins on a core another process needs (eval/load.py --threads measures the alternatives).
    threads: int = 1
    prometheus_dir: Path = field(default=VAR_DIR / "prometheus")

    @classmethod
    def on_free_ports(cls, pairs: int = 2, gateway_workers: int = 2, threads: int = 1,
                      prometheus_dir: Path | None = None) -> Topology:
        return cls(
            pairs=pairs, gateway_workers=gateway_workers, gateway_port=free_port(),
            rasa_ports=tuple(free_port() for _ in range(pairs)),
            action_ports=tuple(free_port() for _ in range(pairs)), threads=threads,
            prometheus_dir=prometheus_dir or VAR_DIR / "prometheus",
        )

    def __post_init__(self) -> None:
        if not (len(self.rasa_ports) >= self.pairs and len(self.action_ports) >= self.pairs):
            raise ValueError(f"{self.pairs} 组服务需要 {self.pairs} 个 Rasa 端口和 {self.pairs} 个动作服务器端口")


def tracker_store_url(database_url: str) -> str:
    """Rasa's venv speaks psycopg2 (SQLAlchemy 1.4): the same database under the plain `postgresql://` scheme."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(drivername="postgresql", query={}).render_as_string(hide_password=False)


def production_settings(base: Settings, topology: Topology, *, database_url: str | None = None,
                        redis_url: str | None = None, log_format: str = "json") -> Settings:
    """`base` turned into the production configuration of `topology`: PostgreSQL (DATABASE_URL if it already names
    PostgreSQL, else the `hotline_prod` database), Redis, Rasa's PostgreSQL tracker store, the pairs' URLs."""
    if database_url is None:
        database_url = base.database_url if base.database_url.startswith("postgresql") else (
            f"{POSTGRES_SERVER}/{DEFAULT_DATABASE}")
    pairs = range(topology.pairs)
    action_urls = [f"http://127.0.0.1:{topology.action_ports[i]}/webhook" for i in pairs]
    rasa_urls = [f"http://127.0.0.1:{topology.rasa_ports[i]}" for i in pairs]
    return base.model_copy(update={
        "database_url": database_url,
        "redis_url": redis_url or base.redis_url or DEFAULT_REDIS,
        "rasa_endpoints_file": PRODUCTION_ENDPOINTS,
        "rasa_tracker_store_url": base.rasa_tracker_store_url or tracker_store_url(database_url),
        "rasa_urls": ",".join(rasa_urls),
        "action_server_urls": ",".join(action_urls),
        # Agent assist (the gateway) asks the first action server.
        "rasa_url": rasa_urls[0],
        "action_server_url": action_urls[0],
        "log_format": log_format,
        "torch_threads": topology.threads,
        "rasa_threads": topology.threads,
        "gateway_workers": topology.gateway_workers,
        "gateway_port": topology.gateway_port,
    })


def environment(settings: Settings) -> dict[str, str]:
    """PASSED_SETTINGS as environment variables (secret values included: they go to child processes only)."""
    env = {}
    for name in PASSED_SETTINGS:
        value = getattr(settings, name)
        env[name.upper()] = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return env


def service_tiers(settings: Settings, topology: Topology) -> list[list[ServiceSpec]]:
    """Action servers, then Rasa servers (each calling its own action server), then the gateway: each tier starts
    together once the one before is healthy."""
    pairs = range(topology.pairs)
    actions = [action_server_spec(settings, topology.action_ports[i], name=f"actions-{i + 1}") for i in pairs]
    # Two Rasa servers load their models at once on the same cores: give them longer than one alone.
    rasa = [
        replace(rasa_server_spec(settings, topology.rasa_ports[i], name=f"rasa-{i + 1}",
                                 action_server_url=f"http://127.0.0.1:{topology.action_ports[i]}/webhook"),
                startup_timeout=RASA_STARTUP_SECONDS)
        for i in pairs
    ]
    gateway = gateway_spec(settings, topology.gateway_port, rasa_url=settings.rasa_url,
                           action_server_url=settings.action_server_url, workers=topology.gateway_workers)
    # Each gateway worker counts metrics in its own process; /metrics adds up the files in this directory.
    gateway = replace(gateway, env={**gateway.env, "PROMETHEUS_MULTIPROC_DIR": str(topology.prometheus_dir)})
    return [actions, rasa, [gateway]]


def reset_metrics_directory(topology: Topology) -> None:
    """Counts of earlier runs must not add to this one's (prometheus-client's multiprocess mode)."""
    shutil.rmtree(topology.prometheus_dir, ignore_errors=True)
    topology.prometheus_dir.mkdir(parents=True, exist_ok=True)


def ensure_database(database_url: str) -> None:
    """Create the PostgreSQL database `database_url` names unless it exists (a database is never dropped here)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from casework.db import resolve_url

    url = make_url(resolve_url(database_url))
    admin = create_engine(url.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": url.database}).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def prepare_databases(settings: Settings, *, seed: bool = True) -> None:
    """Create the PostgreSQL database if missing, the tracker store's schema, migrate to the latest schema and
    (with `seed`) add the demo residents and desk accounts."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    ensure_database(settings.database_url)
    tracker = create_engine(make_url(settings.rasa_tracker_store_url).set(drivername="postgresql+psycopg"))
    try:
        with tracker.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.rasa_tracker_store_schema}"'))
    finally:
        tracker.dispose()
    if seed:
        from casework.cli import setup

        setup(url=settings.database_url)
    else:
        from casework.db import upgrade

        upgrade(settings.database_url)


def check_servers(settings: Settings) -> list[str]:
    """PostgreSQL and Redis must answer before anything starts; one line per one that does not."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from casework.db import resolve_url

    problems = []
    engine = create_engine(make_url(resolve_url(settings.database_url)).set(database="postgres"))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any driver error: the server is not there
        problems.append(f"PostgreSQL 无法连接（{type(error).__name__}）：请确认 {POSTGRES_SERVER} 在运行")
    finally:
        engine.dispose()
    import redis

    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        problems.append(f"Redis 无法连接（{type(error).__name__}）：请确认 {settings.redis_url} 在运行")
    return problems


@app.command("run-prod")
def run_prod(
    pairs: int = typer.Option(2, min=1, max=8, help="Rasa 服务器与动作服务器的组数"),
    workers: int = typer.Option(2, min=1, max=16, help="网关工作进程数"),
    threads: int = typer.Option(1, min=1, max=16, help="每个 Rasa / 动作服务器进程的计算线程数"),
) -> None:
    """生产模式：PostgreSQL + Redis，多个 Rasa 服务器与动作服务器，多进程网关（Ctrl-C 全部停止）。"""
    from hotline.launcher import _print_urls, _settings_with_secrets, missing_pieces, supervise
    from hotline.processes import ServiceGroup

    base = _settings_with_secrets()
    # Ports from the settings (RASA_PORT, ACTION_SERVER_PORT, GATEWAY_PORT); further pairs on the next ports.
    topology = Topology(
        pairs=pairs, gateway_workers=workers, threads=threads, gateway_port=base.gateway_port,
        rasa_ports=tuple(base.rasa_port + i for i in range(pairs)),
        action_ports=tuple(base.action_server_port + i for i in range(pairs)),
    )
    settings = production_settings(base, topology)
    problems = missing_pieces(settings) + check_servers(settings)
    if problems:
        console.print("[red]无法启动生产模式：[/red]")
        for problem in problems:
            console.print(f"  · {problem}")
        raise typer.Exit(code=2)
    with console.status(f"准备数据库 {settings.database_url.rsplit('/', 1)[-1]}（迁移、演示数据）…"):
        prepare_databases(settings)
    reset_metrics_directory(topology)
    group = ServiceGroup([], log_dir=settings.log_dir / "prod", env=environment(settings))

    def started() -> None:
        _print_urls(settings)
        console.print(f"  生产模式      {pairs} 组 Rasa + 动作服务器，{workers} 个网关进程，"
                      f"PostgreSQL {settings.database_url.rsplit('@', 1)[-1]}，Redis {settings.redis_url}")
        console.print(f"  指标          http://127.0.0.1:{settings.gateway_port}/metrics（仅本机或带 METRICS_TOKEN）")

    supervise(group, service_tiers(settings, topology), started,
              f"正在启动 {pairs} 个动作服务器、{pairs} 个 Rasa 服务器（约两分钟）和网关…")


@app.command("prepare-prod")
def prepare_prod(demo: bool = typer.Option(False, "--demo", help="同时写入虚构的演示居民和坐席账号")) -> None:
    """生产数据库准备：建库（如缺）、Rasa 会话表的 schema、迁移到最新结构（deploy/compose.yaml 的 prepare 步骤）。"""
    from hotline.launcher import _settings_with_secrets

    base = _settings_with_secrets()
    settings = base.model_copy(update={
        "rasa_tracker_store_url": base.rasa_tracker_store_url or tracker_store_url(base.database_url)})
    if not settings.database_url.startswith("postgresql"):
        console.print(f"[red]DATABASE_URL 不是 PostgreSQL（{settings.database_url.split(':', 1)[0]}）[/red]")
        raise typer.Exit(code=2)
    prepare_databases(settings, seed=demo)
    console.print("生产数据库已就绪。")
