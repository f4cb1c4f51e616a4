"""The Hugging Face router's price list: fetched once per process, on the first call to the router that needs it.

`GET https://router.huggingface.co/v1/models` lists every model with its providers and their prices (US dollars
per million input and output tokens); `easyllm.protocol.pricing.router_prices` reads it. It is asked once, with
one short attempt and no retries (like a server probe), so it never holds a call up for long. A failed fetch is
logged and remembered as "no prices" for the rest of the process (calls then have no `usage.cost`, unless the
caller passes `prices=`); `forget_router_prices()` clears it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache

from easyllm.dialects.paths import host, is_collection
from easyllm.dialects.router import ROUTER_HOST
from easyllm.protocol.generation import HTTPCall
from easyllm.protocol.pricing import Price, router_prices
from easyllm.settings import Settings
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = [
    "ROUTER_MODELS_URL",
    "arouter_table",
    "forget_router_prices",
    "is_router",
    "priced_by_router",
    "router_table",
]

logger = logging.getLogger(__name__)

ROUTER_MODELS_URL = f"https://{ROUTER_HOST}/v1/models"

Table = Mapping[str, Mapping[str, Price]]
_table: Table | None = None
_lock = threading.Lock()


def is_router(settings: Settings) -> bool:
    """Whether a call goes to the Hugging Face router's OpenAI-compatible API (whose price list then applies).

    Not its `hf-inference` model collections (`…/models`): the list prices the providers behind `/v1`.
    """
    return settings.pool is None and _on_router(settings.api_base)


@lru_cache(maxsize=64)
def _on_router(api_base: str) -> bool:
    return host(api_base) == ROUTER_HOST and not is_collection(api_base)


def priced_by_router(calls: Sequence[HTTPCall]) -> bool:
    """Whether planned requests go to the router's `/v1` API (its providers' prices), not to `hf-inference`."""
    return bool(calls) and calls[0].url.startswith(f"https://{ROUTER_HOST}/v1/")


def forget_router_prices() -> None:
    """Forget the fetched price list; the next call to the router fetches it again."""
    global _table
    _table = None


def _learn(body: object | None) -> Table:
    global _table
    if body is None:
        logger.info("no router prices (usage.cost stays unset unless prices= is given): the model list did not answer")
    _table = router_prices(body) if body is not None else {}
    return _table


def router_table(transport: SyncTransport) -> Table:
    """The router's prices, fetched with `transport` the first time (one short attempt, one fetch for all threads)."""
    if _table is not None:
        return _table
    with _lock:
        if _table is not None:
            return _table
        reply = transport.probe(HTTPCall("GET", ROUTER_MODELS_URL))
        return _learn(reply.body if reply is not None else None)


async def arouter_table(transport: AsyncTransport) -> Table:
    """Async twin of `router_table` (tasks that ask at the same moment may each fetch it once)."""
    if _table is not None:
        return _table
    reply = await transport.probe(HTTPCall("GET", ROUTER_MODELS_URL))
    return _learn(reply.body if reply is not None else None)
