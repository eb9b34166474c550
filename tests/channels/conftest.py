"""Channel tests run the real gateway app under a real uvicorn server (in a thread), in front of fakes."""

from __future__ import annotations

import base64
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from channels.app import create_app
from hotline.processes import free_port
from hotline.settings import Settings
from tests.channels.fakes import FakeRasa, FakeWeChatApi

WECHAT_TOKEN = "test-wechat-token"
WECHAT_APP_ID = "wx1234567890abcdef"
# EncodingAESKey is 43 base64 characters (32 bytes without the trailing '=').
WECHAT_AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")


@dataclass
class Gateway:
    url: str
    settings: Settings
    rasa: FakeRasa
    wechat_api: FakeWeChatApi

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=15.0)

    def session(self, client: httpx.Client) -> str:
        return client.post("/api/session").json()["sender"]

    def rows(self, model: type, wait: float = 0.0) -> list[Any]:
        """Every row of `model` in the gateway's database (queued messages, feedback …), waiting up to `wait`
        seconds for at least one (writes made after the response, e.g. WeChat deliveries)."""
        from sqlalchemy import select

        from casework.db import session_scope

        deadline = time.monotonic() + wait
        while True:
            with session_scope(self.settings.database_url) as session:
                rows = list(session.scalars(select(model)).all())
            if rows or time.monotonic() >= deadline:
                return rows
            time.sleep(0.05)


class _ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own signal handling
        pass


def run_gateway(settings: Settings) -> tuple[_ThreadedServer, threading.Thread, str]:
    port = free_port()
    server = _ThreadedServer(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="info")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database at the latest schema (the gateway keeps queued messages and feedback in it), copied
    for each gateway."""
    from casework.db import get_engine, upgrade

    path = tmp_path_factory.mktemp("gateway-template") / "gateway.db"
    upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def make_gateway(tmp_path: Path, migrated_database: Path) -> Iterator[Callable[..., Gateway]]:
    shutil.copy(migrated_database, tmp_path / "gateway.db")
    started: list[tuple[_ThreadedServer, threading.Thread, FakeRasa, FakeWeChatApi]] = []

    def make(rasa: FakeRasa | None = None, **overrides: Any) -> Gateway:
        rasa = rasa or FakeRasa()
        if rasa.server is None:  # two gateways (workers) may share one fake Rasa
            rasa.start()
        wechat_api = FakeWeChatApi().start()
        defaults: dict[str, Any] = {
            "rasa_url": rasa.url,
            "action_server_url": f"{rasa.url}/webhook",
            "database_url": f"sqlite:///{tmp_path / 'gateway.db'}",
            "index_dir": tmp_path / "index",
            "spool_dir": tmp_path / "spool",
            "wechat_token": WECHAT_TOKEN,
            "wechat_app_id": WECHAT_APP_ID,
            "wechat_encoding_aes_key": WECHAT_AES_KEY,
            "wechat_api_base_url": wechat_api.url,
        }
        settings = Settings(**{**defaults, **overrides})
        rasa.secret = settings.rasa_channel_secret.get_secret_value()  # the fake refuses unsigned messages
        server, thread, url = run_gateway(settings)
        started.append((server, thread, rasa, wechat_api))
        return Gateway(url, settings, rasa, wechat_api)

    yield make
    closed: set[int] = set()
    for server, thread, rasa, wechat_api in started:
        server.should_exit = True
        thread.join(timeout=10)
        for fake in (rasa, wechat_api):
            assert fake.server
            if id(fake) not in closed:
                fake.server.close()
                closed.add(id(fake))


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (no downloaded browser builds).

    Per module, not per session: Playwright's sync API keeps an event loop running in the main thread while it
    is open, and later tests that call asyncio.run (the queue replay, the load generator) would fail."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("没有 Chromium：运行 `make browser`（apt-get install chromium fonts-noto-cjk）")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
