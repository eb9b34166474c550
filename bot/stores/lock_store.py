"""Rasa's conversation lock store on Redis that keeps the bot answering while Redis is down.

endpoints.production.yml:

    lock_store:
      type: stores.lock_store.FallbackRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: ${RASA_LOCK_STORE_DB}
      key_prefix: ${RASA_LOCK_KEY_PREFIX}

Rasa's `RedisLockStore` fails every message while Redis is unreachable. This one uses it while it can and falls
back to this process's memory (Rasa's `InMemoryLockStore`) when a Redis call fails, trying Redis again after
`RETRY_SECONDS`. Memory is enough for correctness here: the gateway sends each conversation to one Rasa server and
holds its own per-conversation turn lock (channels/rasa_pool.py), so Redis locks are a second line, not the only.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
RETRY_SECONDS = 5.0


class FallbackRedisLockStore(LockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        options: dict[str, Any] = dict(endpoint_config.kwargs)
        options.setdefault("socket_timeout", 2)
        self.redis = RedisLockStore(host=endpoint_config.url or "localhost", **options)
        self.memory = InMemoryLockStore()
        self._redis_retry_at = 0.0
        super().__init__()

    def _store(self) -> LockStore:
        return self.redis if time.monotonic() >= self._redis_retry_at else self.memory

    def _call(self, method: str, *args: Any) -> Any:
        import redis

        store = self._store()
        try:
            return getattr(store, method)(*args)
        except redis.exceptions.RedisError as error:
            if store is self.redis:
                logger.warning("Redis lock store unavailable (%s): locking in this process's memory for %.0f s",
                               type(error).__name__, RETRY_SECONDS)
                self._redis_retry_at = time.monotonic() + RETRY_SECONDS
            return getattr(self.memory, method)(*args)

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        return self._call("get_lock", conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self._call("delete_lock", conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self._call("save_lock", lock)
