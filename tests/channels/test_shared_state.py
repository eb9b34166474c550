"""The store gateway workers share: the same behaviour in process memory and in the real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from channels.shared_state import MemoryState, RedisState, SharedState, SharedStateError, shared_state
from hotline.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def state(request: pytest.FixtureRequest) -> Iterator[SharedState]:
    if request.param == "memory":
        yield MemoryState()
        return
    prefix = f"hotline-test:{uuid.uuid4().hex}:"
    store = shared_state(Settings(redis_url=REDIS_URL, redis_key_prefix=prefix))
    assert isinstance(store, RedisState)
    yield store
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_only_the_first_add_claims_a_key(state: SharedState) -> None:
    assert state.add("k", "first", ttl=30) is True
    assert state.add("k", "second", ttl=30) is False
    assert state.get("k") == "first"
    state.set("k", "done", ttl=30)
    assert state.get("k") == "done"
    state.delete("k")
    assert state.get("k") is None and state.add("k", "again", ttl=30) is True


def test_keys_expire(state: SharedState) -> None:
    state.add("short", "v", ttl=0.2)
    assert state.get("short") == "v"
    time.sleep(0.35)
    assert state.get("short") is None
    assert state.add("short", "new", ttl=30) is True


def test_counters_count_within_their_window(state: SharedState) -> None:
    assert [state.incr("hits", ttl=0.3) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.45)
    assert state.incr("hits", ttl=0.3) == 1


def test_redis_keys_carry_the_prefix_so_deployments_do_not_mix() -> None:
    one = shared_state(Settings(redis_url=REDIS_URL, redis_key_prefix=f"a-{uuid.uuid4().hex}:"))
    two = shared_state(Settings(redis_url=REDIS_URL, redis_key_prefix=f"b-{uuid.uuid4().hex}:"))
    assert one.add("same", "1", ttl=5) and two.add("same", "2", ttl=5)


def test_an_unreachable_redis_is_a_clear_error() -> None:
    store = shared_state(Settings(redis_url="redis://127.0.0.1:9/0"))  # discard port: nothing listens
    with pytest.raises(SharedStateError):
        store.add("k", "v", ttl=5)


def test_without_redis_the_state_is_in_memory() -> None:
    assert isinstance(shared_state(Settings(redis_url="")), MemoryState)
