"""`hotline eval load`: simulated residents against the whole assistant, bounded in rate, time and request count.

Residents arrive at a steady pace and each plays one conversation, turn after turn with a short pause to read:

- policy (45 %): a question of the resident question sets (train, validation), its earlier turns first when it is a
  follow-up, then a follow-up of its own ("那职工呢？");
- lookup (20 %): identity verification as one of the fictitious demo residents (casework/seed.py: name, ID number,
  phone) and two lookups;
- escalation (10 %): a policy question, then 转人工 (a ticket);
- each of these on WeChat (30 % of residents: signed XML to /wechat, a reply within WeChat's 5 s or a later
  customer-service message to a local stand-in of WeChat's API) or the web chat (POST /api/chat).

`--rate` is the target in turns per second; residents are started so the turns add up to it. Every step stops by
itself after `--duration` seconds or `--max-requests` turns, whichever comes first, and waits at most 60 s for the
conversations in flight. Only loopback addresses are accepted as targets. The assistant is started on free ports
(`--mode embedded`: SQLite, one process each, as `hotline run`; `--mode production`: PostgreSQL, Redis, `--pairs`
Rasa + action server pairs and `--workers` gateway workers, as `hotline run-prod`, in a throw-away schema of the
hotline_prod database), with the rate limits lifted, or `--gateway-url` names one already running.

Reported per step: turns/s, latency p50/p95/p99/max (web: the HTTP answer; WeChat: the passive reply, or the
customer-service message when the answer came later), errors by kind, and a per-second timeline.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from rich.table import Table

from eval.metrics import percentile

app = typer.Typer()
console = Console(width=None if sys.stdout.isatty() else 140)  # a redirected table keeps its columns

QUESTION_FILES = ("eval/questions/train.yaml", "eval/questions/validation.yaml")
FOLLOW_UPS = ("那职工医保呢？", "那要多久能办好？", "需要带什么材料？", "异地的也一样吗？", "那退休人员呢？")
LOOKUPS = ("查一下我的医保个人账户余额", "我的报销进度怎么样了", "我今年的医保交了没有", "我的异地备案办好了吗")
SCENARIOS = {"policy": 0.45, "lookup": 0.20, "escalation": 0.10}  # the rest of the weight: none, all have turns
WECHAT_SHARE = 0.30
THINK_SECONDS = (0.5, 2.0)
TARGET_P95_MS = 500.0
KEEPALIVE_SECONDS = 2.0
LIFTED_LIMITS = {"GATEWAY_RATE_PER_SENDER": "1000000", "GATEWAY_RATE_PER_IP": "1000000",
                 "GATEWAY_SESSIONS_PER_IP": "1000000", "IDENTITY_FAILURES_PER_CLIENT": "1000000",
                 "IDENTITY_ID_NUMBERS_PER_CLIENT": "1000000"}


# --- what residents say ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    scenario: str
    channel: str  # web | wechat
    turns: tuple[str, ...]


class Residents:
    """An endless, seeded stream of conversations in the mix above."""

    def __init__(self, seed: int) -> None:
        from casework.seed import DEMO_RESIDENTS
        from eval.question_set import load_questions
        from hotline.settings import PROJECT_ROOT

        self.random = random.Random(seed)
        self.questions = [q for name in QUESTION_FILES for q in load_questions(PROJECT_ROOT / name) if q.answerable]
        self.residents = DEMO_RESIDENTS

    def next(self) -> Script:
        scenario = self.random.choices(list(SCENARIOS), weights=list(SCENARIOS.values()))[0]
        channel = "wechat" if self.random.random() < WECHAT_SHARE else "web"
        question = self.random.choice(self.questions)
        if scenario == "policy":
            turns = (*question.context, question.question, self.random.choice(FOLLOW_UPS))
        elif scenario == "lookup":
            demo = self.random.choice(self.residents)
            first, second = self.random.sample(LOOKUPS, 2)
            turns = (first, demo.name, f"身份证号{demo.id_number}", f"手机尾号{demo.phone[-4:]}", second)
        else:
            turns = (question.question, "转人工")
        return Script(scenario, channel, tuple(turns))

    def mean_turns(self, samples: int = 2000) -> float:
        probe = Residents.__new__(Residents)
        probe.random, probe.questions, probe.residents = random.Random(1), self.questions, self.residents
        return sum(len(probe.next().turns) for _ in range(samples)) / samples


# --- WeChat's customer-service API, stood in for on loopback ----------------------------------------------------


class WeChatSink:
    """Answers `cgi-bin/token` and `cgi-bin/message/custom/send` like WeChat and notes when each openid was sent
    something, so a WeChat answer that came after the passive-reply deadline is timed too."""

    def __init__(self) -> None:
        self.delivered: dict[str, list[float]] = {}
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer({"access_token": "LOADTOKEN", "expires_in": 7200})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                sink.delivered.setdefault(str(body.get("touser")), []).append(time.perf_counter())
                self._answer({"errcode": 0, "errmsg": "ok"})

            def _answer(self, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- one step at one rate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnResult:
    finished: float  # seconds since the step started
    latency_ms: float
    channel: str
    scenario: str
    error: str | None = None  # None: answered


@dataclass
class LoadFigures:
    name: str
    target_rate: float  # turns per second asked for
    duration_s: float
    turns: int
    turns_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    errors_by_kind: dict[str, int]
    by_channel: dict[str, dict[str, float]]
    by_scenario: dict[str, dict[str, float]]
    timeline: list[dict[str, float]] = field(default_factory=list)

    @property
    def within_target(self) -> bool:
        return self.errors == 0 and self.p95_ms <= TARGET_P95_MS


def _latencies(results: list[TurnResult]) -> dict[str, float]:
    values = [r.latency_ms for r in results if r.error is None]
    if not values:
        return {"turns": len(results), "p50_ms": 0.0, "p95_ms": 0.0, "errors": len(results)}
    return {"turns": len(results), "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1), "errors": sum(r.error is not None for r in results)}


def summarise(name: str, rate: float, results: list[TurnResult], wall: float) -> LoadFigures:
    answered = [r.latency_ms for r in results if r.error is None] or [0.0]
    kinds: dict[str, int] = {}
    for result in results:
        if result.error:
            kinds[result.error] = kinds.get(result.error, 0) + 1
    timeline = []
    for second in range(int(wall) + 1):
        window = [r for r in results if second <= r.finished < second + 1]
        ok = [r.latency_ms for r in window if r.error is None]
        timeline.append({"second": second, "turns": len(window), "errors": sum(r.error is not None for r in window),
                         "p95_ms": round(percentile(ok, 95), 1) if ok else 0.0})
    return LoadFigures(
        name=name, target_rate=rate, duration_s=round(wall, 1), turns=len(results),
        turns_per_second=round(len(results) / wall, 2) if wall else 0.0,
        p50_ms=round(percentile(answered, 50), 1), p95_ms=round(percentile(answered, 95), 1),
        p99_ms=round(percentile(answered, 99), 1), max_ms=round(max(answered), 1),
        errors=sum(kinds.values()), errors_by_kind=kinds,
        by_channel={c: _latencies([r for r in results if r.channel == c]) for c in ("web", "wechat")},
        by_scenario={s: _latencies([r for r in results if r.scenario == s]) for s in SCENARIOS},
        timeline=timeline,
    )


class LoadRun:
    def __init__(self, gateway_url: str, wechat_token: str, sink: WeChatSink | None, seed: int) -> None:
        require_loopback(gateway_url)
        self.url = gateway_url.rstrip("/")
        self.wechat_token = wechat_token
        self.sink = sink
        self.residents = Residents(seed)
        self.random = random.Random(seed + 1)

    async def step(self, rate: float, duration: float, max_requests: int, name: str = "") -> LoadFigures:
        """Residents started at rate / mean turns per second for `duration` s; at most `max_requests` turns."""
        results: list[TurnResult] = []
        budget = [max_requests]
        interval = self.residents.mean_turns() / rate
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends: at httpx's default of 5 s a request
        # could go out on a connection the server was closing, an error of the generator, not of the assistant.
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=KEEPALIVE_SECONDS)
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), limits=limits) as client:
            started = time.perf_counter()
            conversations: list[asyncio.Task[None]] = []
            while time.perf_counter() - started < duration and budget[0] > 0:
                script = self.residents.next()
                conversations.append(asyncio.create_task(self._converse(client, script, started, results, budget)))
                await asyncio.sleep(self.random.expovariate(1 / interval))
            budget[0] = 0 if time.perf_counter() - started >= duration else budget[0]
            _, pending = await asyncio.wait(conversations, timeout=60) if conversations else (set(), set())
            for task in pending:
                task.cancel()
            wall = time.perf_counter() - started
        return summarise(name or f"{rate:g} turns/s", rate, results, wall)

    async def _converse(self, client: httpx.AsyncClient, script: Script, started: float,
                        results: list[TurnResult], budget: list[int]) -> None:
        if script.channel == "web":
            sender, failure = await self._session(client)
        else:
            sender, failure = f"oLoad{uuid.uuid4().hex[:20]}", None
        if failure:
            results.append(TurnResult(time.perf_counter() - started, 0.0, script.channel, script.scenario,
                                      f"session {failure}"))
            return
        for text in script.turns:
            if budget[0] <= 0:
                return
            budget[0] -= 1
            begin = time.perf_counter()
            ask = self._web if script.channel == "web" else self._wechat
            error = await ask(client, sender, text, begin)
            end = time.perf_counter()
            results.append(TurnResult(end - started, (end - begin) * 1000, script.channel, script.scenario, error))
            if error:
                return  # a resident whose turn failed does not go on as if answered
            await asyncio.sleep(self.random.uniform(*THINK_SECONDS))

    async def _session(self, client: httpx.AsyncClient) -> tuple[str, str | None]:
        """A web session's sender token, or "" and what went wrong (as `_post` names it)."""
        response = await self._post(client, "/api/session")
        if isinstance(response, str):
            return "", response
        try:
            return str(response.json()["sender"]), None
        except (ValueError, KeyError):
            return "", "without a sender"

    async def _post(self, client: httpx.AsyncClient, path: str, **request: Any) -> httpx.Response | str:
        """The response if it is a 200, else what went wrong, as the error kinds are counted."""
        try:
            response = await client.post(f"{self.url}{path}", **request)
        except httpx.TimeoutException:
            return "timeout"
        except httpx.HTTPError:
            return "connection"
        return response if response.status_code == 200 else f"http {response.status_code}"

    async def _web(self, client: httpx.AsyncClient, token: str, text: str, begin: float) -> str | None:
        response = await self._post(client, "/api/chat", json={"sender": token, "message": text})
        if isinstance(response, str):
            return response
        return None if response.json() else "empty reply"

    async def _wechat(self, client: httpx.AsyncClient, openid: str, text: str, begin: float) -> str | None:
        stamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        signature = hashlib.sha1("".join(sorted([self.wechat_token, stamp, nonce])).encode()).hexdigest()
        msg_id = self.random.randrange(10**15, 10**16)
        xml = (f"<xml><ToUserName><![CDATA[gh_12393load]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
               f"</FromUserName><CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
        response = await self._post(client, "/wechat", content=xml.encode(),
                                    params={"signature": signature, "timestamp": stamp, "nonce": nonce})
        if isinstance(response, str):
            return response
        if response.text != "success":
            return None
        # The answer goes by the customer-service API: wait for it (the turn's latency runs on).
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            if self.sink and any(t >= begin for t in self.sink.delivered.get(openid, [])):
                return None
            await asyncio.sleep(0.05)
        return "no wechat answer"


def require_loopback(url: str) -> None:
    """Load goes to this machine only."""
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise typer.BadParameter(f"负载只能发往本机回环地址（127.0.0.0/8、localhost、::1），而不是 {host!r}",
                                 param_hint="--gateway-url")


# --- the assistant under test -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    gateway_url: str
    wechat_token: str
    sink: WeChatSink | None
    description: str


@contextmanager
def started_assistant(mode: str, pairs: int, workers: int, threads: int) -> Iterator[Target]:
    """The assistant on free ports with lifted limits; WeChat's API stood in for by a local sink."""
    import tempfile

    from hotline.processes import ServiceGroup
    from hotline.settings import get_settings

    settings = get_settings()
    sink = WeChatSink()
    try:
        with tempfile.TemporaryDirectory(prefix="hotline-load-") as state:
            base = settings.model_copy(update={"torch_threads": threads, "rasa_threads": threads,
                                               "spool_dir": Path(state) / "spool",
                                               "log_dir": settings.log_dir / "load"})
            extra = {**LIFTED_LIMITS, "WECHAT_API_BASE_URL": sink.url, "SPOOL_DIR": str(Path(state) / "spool")}
            if mode == "embedded":
                tiers, env, cleanup = _embedded(base, Path(state), extra)
            else:
                tiers, env, cleanup = _production(base, Path(state), extra, pairs, workers)
            group = ServiceGroup([], log_dir=base.log_dir, env=env)
            try:
                with console.status(f"启动被测助手（{mode}）…"):
                    for tier in tiers:
                        group.start_together(tier)
                gateway = next(s for s in group.running if s.spec.name == "gateway")
                what = (f"{mode}: {pairs if mode == 'production' else 1} Rasa + action server pair(s), "
                        f"{workers if mode == 'production' else 1} gateway worker(s), {threads} thread(s) each")
                yield Target(gateway.spec.base_url, settings.wechat_token.get_secret_value(), sink, what)
            finally:
                group.stop()
                cleanup()
    finally:
        sink.close()


def _embedded(settings, state: Path, extra: dict[str, str]):  # type: ignore[no-untyped-def]
    from casework.cli import setup
    from hotline.processes import stack_on_free_ports

    database = f"sqlite:///{state / 'load.db'}"
    setup(url=database)
    specs, _ = stack_on_free_ports(settings)
    # Thread counts reach each process through its settings (TORCH_THREADS; Rasa's through its spec).
    env = {**extra, "DATABASE_URL": database, "TORCH_THREADS": str(settings.torch_threads)}
    return [[spec] for spec in specs], env, lambda: None


def _production(settings, state: Path, extra: dict[str, str], pairs: int, workers: int):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, text

    from hotline.production import (
        DEFAULT_DATABASE,
        POSTGRES_SERVER,
        Topology,
        ensure_database,
        environment,
        prepare_databases,
        production_settings,
        service_tiers,
    )

    run = uuid.uuid4().hex[:8]
    schema = f"load_{run}"
    server = f"{POSTGRES_SERVER}/{DEFAULT_DATABASE}"
    topology = Topology.on_free_ports(pairs=pairs, gateway_workers=workers, threads=settings.torch_threads,
                                      prometheus_dir=state / "prometheus")
    prod = production_settings(settings, topology, database_url=f"{server}?options=-csearch_path%3D{schema}")
    prod = prod.model_copy(update={"redis_key_prefix": f"hotline:load{run}:", "rasa_tracker_store_schema": f"{schema}_rasa"})
    ensure_database(server)
    engine = create_engine(server)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    prepare_databases(prod)
    (state / "prometheus").mkdir(exist_ok=True)

    def cleanup() -> None:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_rasa" CASCADE'))
        engine.dispose()

    return service_tiers(prod, topology), {**environment(prod), **extra}, cleanup


# --- the command -----------------------------------------------------------------------------------------------


def run_steps(target: Target, rates: list[float], duration: float, max_requests: int, seed: int,
              warmup: float) -> list[LoadFigures]:
    run = LoadRun(target.gateway_url, target.wechat_token, target.sink, seed)
    if warmup:
        asyncio.run(run.step(min(rates), warmup, max_requests, name="warm-up"))
    return [asyncio.run(run.step(rate, duration, max_requests)) for rate in rates]


def figures_table(title: str, figures: list[LoadFigures]) -> Table:
    table = Table(title=title, caption=f"✓ = p95 ≤ {TARGET_P95_MS:.0f} ms and no errors")
    for column in ("target turns/s", "turns", "turns/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
                   "web p95", "wechat p95", ""):
        table.add_column(column, justify="right")
    for f in figures:
        table.add_row(f"{f.target_rate:g}", str(f.turns), f"{f.turns_per_second}", f"{f.p50_ms}", f"{f.p95_ms}",
                      f"{f.p99_ms}", f"{f.max_ms}", str(f.errors) + (f" {f.errors_by_kind}" if f.errors else ""),
                      f"{f.by_channel['web']['p95_ms']}", f"{f.by_channel['wechat']['p95_ms']}",
                      "✓" if f.within_target else "✗")
    return table


@app.command("load")
def load_command(
    mode: str = typer.Option("embedded", help="embedded（SQLite，各一个进程）或 production（PostgreSQL + Redis）"),
    gateway_url: str | None = typer.Option(None, help="使用已运行的网关（仅限本机回环地址，须放宽限流）"),
    pairs: int = typer.Option(2, min=1, max=4, help="production：Rasa + 动作服务器的组数"),
    workers: int = typer.Option(2, min=1, max=8, help="production：网关工作进程数"),
    threads: int = typer.Option(1, min=1, max=8, help="每个 Rasa / 动作服务器进程的计算线程数"),
    rate: list[float] = typer.Option([2.0], help="目标负载（回合/秒），可重复：依次各跑一轮"),
    duration: float = typer.Option(60.0, min=1.0, max=1800.0, help="每轮时长（秒）"),
    max_requests: int = typer.Option(20_000, min=1, max=200_000, help="每轮最多发送的回合数"),
    warmup: float = typer.Option(15.0, min=0.0, max=300.0, help="正式计时前的预热时长（秒，不计入结果）"),
    seed: int = typer.Option(12393),
    json_out: Path | None = typer.Option(None, "--json", help="把结果（含逐秒时间线）写成 JSON"),
) -> None:
    """负载测试：模拟居民的多轮对话（政策问答、身份核验与查询、转人工；网页与微信），报告吞吐与延迟分位数。"""
    if mode not in ("embedded", "production"):
        raise typer.BadParameter("只能是 embedded 或 production", param_hint="--mode")
    if gateway_url:
        require_loopback(gateway_url)
        from hotline.settings import get_settings

        target = Target(gateway_url, get_settings().wechat_token.get_secret_value(), None, f"gateway {gateway_url}")
        figures = run_steps(target, rate, duration, max_requests, seed, warmup)
    else:
        with started_assistant(mode, pairs, workers, threads) as target:
            figures = run_steps(target, rate, duration, max_requests, seed, warmup)
    console.print(figures_table(f"负载：{target.description}", figures))
    best = max((f for f in figures if f.within_target), key=lambda f: f.turns_per_second, default=None)
    if best:
        console.print(f"满足 p95 ≤ {TARGET_P95_MS:.0f} ms 且无错误的最高负载：{best.turns_per_second} 回合/秒")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"target": target.description, "steps": [asdict(f) for f in figures]}
        json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
        console.print(f"已写入 {json_out}")
