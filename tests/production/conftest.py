"""One production stack per test session, as `make run-prod` starts it (hotline/production.py): two Rasa servers
each with its own action server, a two-worker gateway, PostgreSQL and Redis — on free ports, in throw-away schemas
of the `test` database and a throw-away Redis key prefix, reached through TCP proxies the tests can cut.

Rasa's tracker store connects to PostgreSQL directly (it may well be another server in production); the casework
database (tickets, audit, queued messages) and Redis (limits, turn locks, Rasa's locks, WeChat de-duplication) go
through the proxies. WeChat's customer-service API is a local fake (tests/channels/fakes.py).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from hotline.processes import ServiceGroup
from hotline.production import Topology, environment, prepare_databases, production_settings, service_tiers
from hotline.settings import PROJECT_ROOT, Settings, get_settings
from tests.channels.fakes import FakeWeChatApi
from tests.conftest import STACK_IDENTITY_LIMITS
from tests.production.tcp_proxy import TcpProxy

LOG_DIR = PROJECT_ROOT / "tests" / "artifacts" / "logs" / "production"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
UNLIMITED = "100000"


@dataclass
class ProductionStack:
    settings: Settings
    topology: Topology
    group: ServiceGroup
    database: TcpProxy
    redis: TcpProxy
    wechat_api: FakeWeChatApi
    tracker_schema: str
    tiers: list[list[Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.topology.gateway_port}"

    def client(self, timeout: float = 90.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def start(self) -> None:
        for tier in self.tiers:
            self.group.start_together(tier)

    def restart_everything(self) -> None:
        self.group.stop()
        self.start()

    def tracker_events(self, sender_id: str) -> list[tuple[str, str | None]]:
        """(event type, action name) of one conversation, in order, from Rasa's tracker store in PostgreSQL."""
        engine = create_engine(POSTGRES)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(f'SELECT type_name, action_name FROM "{self.tracker_schema}".events '
                         "WHERE sender_id = :sender ORDER BY id"), {"sender": sender_id}).all()
        finally:
            engine.dispose()
        return [(row[0], row[1]) for row in rows]

    def wechat_params(self) -> dict[str, str]:
        stamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        token = self.settings.wechat_token.get_secret_value()
        signature = hashlib.sha1("".join(sorted([token, stamp, nonce])).encode()).hexdigest()
        return {"signature": signature, "timestamp": stamp, "nonce": nonce}

    def wait_until_healthy(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = httpx.get(f"{self.url}/healthz", timeout=10)
            body = response.json()
            if body["status"] == "ok":
                return body
            time.sleep(1.0)
        raise AssertionError(f"not healthy after {timeout:.0f} s: {body}")


@pytest.fixture(scope="session")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionStack]:
    run = uuid.uuid4().hex[:10]
    schema, tracker_schema = f"prod_{run}", f"prod_{run}_rasa"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database, redis = TcpProxy(5432).start(), TcpProxy(6379).start()
    wechat_api = FakeWeChatApi().start()
    state = tmp_path_factory.mktemp("production")
    topology = Topology.on_free_ports(pairs=2, gateway_workers=2, prometheus_dir=state / "prometheus")
    settings = production_settings(
        get_settings(), topology,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{database.port}/test?options=-csearch_path%3D{schema}",
        redis_url=f"redis://127.0.0.1:{redis.port}/0",
    ).model_copy(update={
        "redis_key_prefix": f"hotline:prodtest{run}:",
        "rasa_tracker_store_url": "postgresql://postgres@127.0.0.1:5432/test",
        "rasa_tracker_store_schema": tracker_schema,
        "log_dir": LOG_DIR,
        "spool_dir": state / "spool",
        "wechat_api_base_url": wechat_api.url,
        "spool_retry_seconds": 1.0,
        "replay_interval_seconds": 1.0,
    })
    prepare_databases(settings)
    (state / "prometheus").mkdir()
    for log in LOG_DIR.glob("*.log"):  # this run's logs only: the privacy scan reads them
        log.unlink()
    env = {**environment(settings), **STACK_IDENTITY_LIMITS, "WECHAT_API_BASE_URL": wechat_api.url,
           "SPOOL_RETRY_SECONDS": "1", "REPLAY_INTERVAL_SECONDS": "1", "GATEWAY_RATE_PER_SENDER": UNLIMITED,
           "GATEWAY_RATE_PER_IP": UNLIMITED, "GATEWAY_SESSIONS_PER_IP": UNLIMITED}
    group = ServiceGroup([], log_dir=LOG_DIR, env=env)
    stack = ProductionStack(settings, topology, group, database, redis, wechat_api, tracker_schema,
                            tiers=service_tiers(settings, topology))
    try:
        stack.start()
        yield stack
    finally:
        group.stop()
        database.stop()
        redis.stop()
        assert wechat_api.server
        wechat_api.server.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{tracker_schema}" CASCADE'))
        admin.dispose()
        _forget_redis_keys(settings.redis_key_prefix)


def _forget_redis_keys(prefix: str) -> None:
    """The run's keys: the gateway's (`prefix…`) and Rasa's locks (`<prefix letters and digits>:lock:…`)."""
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    lock_prefix = "".join(ch for ch in prefix if ch.isalnum())
    for pattern in (f"{prefix}*", f"{lock_prefix}:*"):
        for key in client.scan_iter(match=pattern):
            client.delete(key)
