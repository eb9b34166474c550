"""The load generator: bounded (stops by itself at its duration or request count), loopback only, and its figures
add up. Run against a real gateway in front of a fake Rasa; the real stack's figures come from `hotline eval load`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
import typer

from eval.load import LoadRun, Residents, TurnResult, WeChatSink, require_loopback, summarise
from tests.channels.conftest import Gateway, make_gateway, migrated_database  # noqa: F401 - fixtures
from tests.channels.fakes import FakeRasa

LIFTED = {"gateway_rate_per_sender": 100_000, "gateway_rate_per_ip": 100_000, "gateway_sessions_per_ip": 100_000}


def test_residents_mix_conversations_on_both_channels() -> None:
    residents = Residents(seed=7)
    scripts = [residents.next() for _ in range(400)]
    assert {s.scenario for s in scripts} == {"policy", "lookup", "escalation"}
    assert {s.channel for s in scripts} == {"web", "wechat"}
    lookup = next(s for s in scripts if s.scenario == "lookup")
    assert any(t.startswith("身份证号") for t in lookup.turns) and len(lookup.turns) == 5
    assert all(s.turns[-1] == "转人工" for s in scripts if s.scenario == "escalation")
    assert 2.0 < residents.mean_turns() < 5.0
    again = Residents(seed=7)
    assert [s.turns for s in scripts[:5]] == [again.next().turns for _ in range(5)]  # seeded: reproducible


def test_a_step_stops_by_itself_at_its_request_budget(make_gateway: Callable[..., Gateway]) -> None:
    sink = WeChatSink()
    try:
        gateway = make_gateway(FakeRasa(), wechat_api_base_url=sink.url, **LIFTED)
        run = LoadRun(gateway.url, gateway.settings.wechat_token.get_secret_value(), sink, seed=3)
        started = time.monotonic()
        figures = asyncio.run(run.step(rate=20.0, duration=30.0, max_requests=25))
        took = time.monotonic() - started
    finally:
        sink.close()
    assert figures.turns == 25 and took < 20  # the budget ended the step long before its duration
    assert figures.errors == 0, figures.errors_by_kind
    assert figures.by_channel["web"]["turns"] + figures.by_channel["wechat"]["turns"] == 25
    assert sum(point["turns"] for point in figures.timeline) == 25


def test_a_step_stops_by_itself_at_its_duration(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(FakeRasa(), **LIFTED)
    run = LoadRun(gateway.url, gateway.settings.wechat_token.get_secret_value(), WeChatSink(), seed=5)
    started = time.monotonic()
    figures = asyncio.run(run.step(rate=4.0, duration=2.0, max_requests=10_000))
    assert time.monotonic() - started < 2.0 + 15  # no new residents after 2 s; those in flight finish their turns
    assert 0 < figures.turns < 10_000


def test_failures_are_counted_by_kind(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(FakeRasa(actions_up=False), **LIFTED)
    run = LoadRun(gateway.url, gateway.settings.wechat_token.get_secret_value(), WeChatSink(), seed=5)
    figures = asyncio.run(run.step(rate=10.0, duration=1.0, max_requests=6))
    web_failures = figures.errors_by_kind.get("http 503", 0)
    assert figures.errors >= web_failures > 0 and not figures.within_target


def test_a_web_session_refused_is_counted_with_its_status(make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(FakeRasa(), **{**LIFTED, "gateway_sessions_per_ip": 1})
    run = LoadRun(gateway.url, gateway.settings.wechat_token.get_secret_value(), WeChatSink(), seed=5)
    figures = asyncio.run(run.step(rate=10.0, duration=2.0, max_requests=12))
    assert figures.errors_by_kind.get("session http 429", 0) > 0


@pytest.mark.parametrize("url", ["http://10.0.0.8:8000", "http://example.org", "http://192.168.1.2"])
def test_only_loopback_is_a_target(url: str) -> None:
    with pytest.raises(typer.BadParameter):
        require_loopback(url)
    require_loopback("http://127.0.0.1:8000")
    require_loopback("http://localhost:8000")


def test_the_figures_add_up() -> None:
    results = [TurnResult(0.5, 100.0, "web", "policy"), TurnResult(1.2, 300.0, "wechat", "lookup"),
               TurnResult(1.8, 700.0, "web", "policy"), TurnResult(2.1, 0.0, "web", "escalation", "http 503")]
    figures = summarise("test", 2.0, results, wall=2.5)
    assert figures.turns == 4 and figures.turns_per_second == 1.6
    assert (figures.p50_ms, figures.p95_ms, figures.max_ms) == (300.0, 700.0, 700.0)
    assert figures.errors == 1 and figures.errors_by_kind == {"http 503": 1}
    assert [p["turns"] for p in figures.timeline] == [1, 2, 1]
    assert figures.by_scenario["escalation"]["errors"] == 1 and not figures.within_target
