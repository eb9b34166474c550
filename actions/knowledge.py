"""The knowledge base shared by every request of the action server: loaded once, in the background.

Loading (index + embedding model) takes seconds, so the action server starts warming it as soon as the policy
action is imported and answers health checks meanwhile; a question that arrives before the load finishes waits
for it instead of loading a second copy.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the search stack pulls in torch and faiss: do it in the loader thread
    from knowledge_base.search import KnowledgeBase

_lock = threading.Lock()
_loading: "Future[KnowledgeBase] | None" = None


def start_loading() -> "Future[KnowledgeBase]":
    """Begin loading the knowledge base in a background thread (once); later calls return the same future."""
    global _loading
    with _lock:
        if _loading is None:
            _loading = Future()
            threading.Thread(target=_load_into, args=(_loading,), name="knowledge-base-loader", daemon=True).start()
        return _loading


def knowledge_base() -> "KnowledgeBase":
    """The loaded knowledge base, waiting for the background load if it is still running.

    A failed load is raised here and forgotten, so the next question tries again (e.g. once the index is built).
    """
    global _loading
    loading = start_loading()
    try:
        return loading.result()
    except BaseException:
        with _lock:
            if _loading is loading:
                _loading = None
        raise


def loaded_knowledge_base() -> "KnowledgeBase | None":
    """The knowledge base if it has finished loading, without waiting: for answers that are only an aside."""
    loading = start_loading()
    return loading.result() if loading.done() and loading.exception() is None else None


def _load_into(future: "Future[KnowledgeBase]") -> None:
    try:
        from knowledge_base.search import KnowledgeBase

        future.set_result(KnowledgeBase.load())
    except BaseException as error:  # re-raised in the request that needs the knowledge base
        future.set_exception(error)
