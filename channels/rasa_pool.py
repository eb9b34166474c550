"""Several Rasa servers (each with its own action server) behind one gateway: each sender sticks to one of them.

    pool = RasaPool(settings)          # RASA_URLS / ACTION_SERVER_URLS, paired by position (or the one pair)
    reply = await pool.send(sender_id, text, {"channel": "web"})

Why not let any Rasa server take any message: Rasa keeps one conversation consistent by locking it while a turn
runs, and its open-source Redis lock store does not fully stop two Rasa processes from taking the same
conversation's lock at once (RasaHQ/rasa PR #11256, not in the open-source release). So:

- a sender goes to the pair at `sha256(sender id) mod n`, and to the next one in order while that one is down
  (its Rasa server unreachable or died mid-turn, or its action server down), so one conversation is handled by
  one Rasa server at a time; conversations live in the shared tracker store, so the next server continues them;
- the gateway itself takes a per-sender turn lock in the shared store (Redis when REDIS_URL is set, so it holds
  across gateway workers; per process otherwise) for the whole turn: a second message of the same resident waits
  until the first has its answer, whichever worker and Rasa server it reaches. While Redis is down the lock holds
  within each gateway worker only (degraded, as /healthz says).

A turn whose Rasa server died mid-turn is sent to the next server (Rasa saves a conversation only after the turn,
so it was not handled); its request id travels as Rasa's message id, so a ticket the lost turn may already have
opened is not opened twice (casework.outbox). A timeout is not retried elsewhere: that turn may still be running.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from channels import metrics
from channels.rasa_client import BotReply, BotUnavailable, RasaClient
from channels.shared_state import SharedState, SharedStateError, shared_state
from hotline.settings import Settings
from hotline.structured_logs import METADATA_KEY, REQUEST_ID, new_request_id

log = logging.getLogger(__name__)

DOWN_SECONDS = 5.0  # a pair that failed is skipped this long before it is tried again
LOCK_POLL_SECONDS = 0.05


def pair_urls(settings: Settings) -> list[tuple[str, str]]:
    """(Rasa URL, action server webhook URL) per pair, from RASA_URLS / ACTION_SERVER_URLS or the one pair."""
    rasa = [url.strip() for url in settings.rasa_urls.split(",") if url.strip()] or [settings.rasa_url]
    actions = [url.strip() for url in settings.action_server_urls.split(",") if url.strip()]
    actions = actions or [settings.action_server_url] * len(rasa)
    if len(actions) != len(rasa):
        raise ValueError(
            f"RASA_URLS 与 ACTION_SERVER_URLS 数量不一致（{len(rasa)} / {len(actions)}）：每个 Rasa 服务器配一个动作服务器"
        )
    return list(zip(rasa, actions, strict=True))


def home_index(sender_id: str, size: int) -> int:
    """The pair a sender belongs to: stable across gateway workers, restarts and hosts (not Python's hash())."""
    return int.from_bytes(hashlib.sha256(sender_id.encode()).digest()[:8], "big") % size


@dataclass
class Member:
    name: str  # rasa-1, rasa-2 … (metrics, logs)
    client: RasaClient
    down_until: float = 0.0

    @property
    def presumed_up(self) -> bool:
        return time.monotonic() >= self.down_until


class TurnLocks:
    """One turn at a time per sender: an asyncio lock within this process, and a lock in the shared store across
    processes (given back by its holder only, expiring by itself after `ttl` if the holder dies)."""

    def __init__(self, store: SharedState, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._local: dict[str, asyncio.Lock] = {}
        self.degraded = False  # the shared store failed on the last try

    @asynccontextmanager
    async def hold(self, sender_id: str) -> AsyncIterator[None]:
        local = self._local.setdefault(sender_id, asyncio.Lock())
        async with local:
            key = "turn:" + hashlib.sha256(sender_id.encode()).hexdigest()[:32]
            token = secrets.token_hex(8)
            shared = await self._acquire(key, token)
            try:
                yield
            finally:
                if shared:
                    try:
                        await asyncio.to_thread(self.store.release, key, token)
                    except SharedStateError:
                        pass  # it expires by itself
            if not local.locked() and self._local.get(sender_id) is local:
                del self._local[sender_id]

    async def _acquire(self, key: str, token: str) -> bool:
        deadline = time.monotonic() + self.ttl
        while True:
            try:
                if await asyncio.to_thread(self.store.add, key, token, self.ttl):
                    self.degraded = False
                    return True
            except SharedStateError as error:
                if not self.degraded:
                    log.warning("turn lock store unavailable, locking per gateway worker only: %s", error)
                    metrics.error("redis")
                self.degraded = True
                return False
            if time.monotonic() >= deadline:  # a holder that never released: its lock has expired by now
                return False
            await asyncio.sleep(LOCK_POLL_SECONDS)


class RasaPool:
    """The gateway's bot: `send`, `parse`, `rasa_status`, `actions_alive` over every pair (RasaClient's interface)."""

    def __init__(self, settings: Settings, store: SharedState | None = None) -> None:
        self.settings = settings
        self.members = [
            Member(f"rasa-{number}", RasaClient(settings, rasa_url=rasa_url, action_server_url=action_url))
            for number, (rasa_url, action_url) in enumerate(pair_urls(settings), start=1)
        ]
        self.locks = TurnLocks(store or shared_state(settings), settings.turn_lock_seconds)

    @property
    def action_health_url(self) -> str:
        return ", ".join(member.client.action_health_url for member in self.members)

    def route(self, sender_id: str) -> list[Member]:
        """The sender's pair first, then the others in ring order; pairs presumed up before those presumed down."""
        start = home_index(sender_id, len(self.members))
        ring = self.members[start:] + self.members[:start]
        return [m for m in ring if m.presumed_up] + [m for m in ring if not m.presumed_up]

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> BotReply:
        request_id = REQUEST_ID.get() or new_request_id()
        metadata = {**metadata, METADATA_KEY: request_id}
        channel = str(metadata.get("channel", "unknown"))
        started = time.perf_counter()
        try:
            async with self.locks.hold(sender_id):
                reply = await self._send_on_route(sender_id, text, metadata)
        except BotUnavailable:
            metrics.record_turn(channel, time.perf_counter() - started, None)
            raise
        metrics.record_turn(channel, time.perf_counter() - started, reply.messages)
        return reply

    async def _send_on_route(self, sender_id: str, text: str, metadata: dict[str, Any]) -> BotReply:
        last: BotUnavailable | None = None
        for member in self.route(sender_id):
            started = time.perf_counter()
            try:
                reply = await member.client.send(sender_id, text, metadata)
            except BotUnavailable as error:
                last = error
                metrics.error(error.component)
                if not error.instance_down:
                    metrics.RASA_REQUESTS.labels(instance=member.name, outcome="error").inc()
                    raise
                member.down_until = time.monotonic() + DOWN_SECONDS
                metrics.RASA_REQUESTS.labels(instance=member.name, outcome="down").inc()
                log.warning("%s unavailable (%s); trying the next Rasa server", member.name, error)
                continue
            metrics.RASA_REQUESTS.labels(instance=member.name, outcome="ok").inc()
            # Whole milliseconds: the log masking reads a long float's digits as a possible ID number.
            log.info("turn %s → %s in %d ms", metadata.get("channel"), member.name,
                     int((time.perf_counter() - started) * 1000))
            return reply
        raise last or BotUnavailable("no Rasa server is configured")

    async def parse(self, text: str) -> BotReply:
        """NLU only (agent assist): the first Rasa server that answers."""
        last: BotUnavailable | None = None
        for member in [m for m in self.members if m.presumed_up] or self.members:
            try:
                return await member.client.parse(text)
            except BotUnavailable as error:
                last = error
        raise last or BotUnavailable("no Rasa server is configured")

    async def rasa_status(self) -> tuple[bool, str]:
        """Up while at least one Rasa server answers; the detail names each."""
        results = await asyncio.gather(*(member.client.rasa_status() for member in self.members))
        if len(self.members) == 1:
            return results[0]
        detail = "; ".join(f"{m.name} {'up' if ok else 'down'} ({what})" for m, (ok, what) in
                           zip(self.members, results, strict=True))
        return any(ok for ok, _ in results), detail

    async def instances(self) -> list[dict[str, Any]]:
        """Each pair's Rasa server and action server, up or down (for /healthz)."""
        async def one(member: Member) -> dict[str, Any]:
            (rasa_ok, _), actions_ok = await asyncio.gather(member.client.rasa_status(),
                                                             member.client.actions_alive())
            return {"name": member.name, "rasa": "up" if rasa_ok else "down",
                    "action_server": "up" if actions_ok else "down"}

        return list(await asyncio.gather(*(one(member) for member in self.members)))

    async def actions_alive(self, max_age: float = 0.0) -> bool:
        results = await asyncio.gather(*(member.client.actions_alive(max_age) for member in self.members))
        return any(results)

    async def aclose(self) -> None:
        for member in self.members:
            await member.client.aclose()
