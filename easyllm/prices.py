"""The Hugging Face router's price list: fetched once per process, on the first call to the router that needs it.

`GET https://router.huggingface.co/v1/models` lists every model with its providers and their prices (US dollars
per million input and output tokens); `easyllm.protocol.pricing.router_prices` reads it. A failed fetch is logged
and remembered as "no prices" for the rest of the process (calls then have no `usage.cost`, unless the caller
passes `prices=`); `forget_router_prices()` clears it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from easyllm.errors import APIError
from easyllm.protocol.generation import HTTPCall
from easyllm.protocol.pricing import Price, router_prices
from easyllm.settings import Settings
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = ["ROUTER_MODELS_URL", "arouter_table", "forget_router_prices", "is_router", "router_table"]

logger = logging.getLogger(__name__)

ROUTER_ORIGIN = "https://router.huggingface.co"
ROUTER_MODELS_URL = f"{ROUTER_ORIGIN}/v1/models"

Table = Mapping[str, Mapping[str, Price]]
_table: Table | None = None
_lock = threading.Lock()


def is_router(settings: Settings) -> bool:
    """Whether a call goes to the Hugging Face router (whose price list then applies)."""
    return settings.pool is None and _on_router(settings.api_base)


@lru_cache(maxsize=64)
def _on_router(api_base: str) -> bool:
    return urlsplit(api_base).netloc == urlsplit(ROUTER_ORIGIN).netloc


def forget_router_prices() -> None:
    """Forget the fetched price list; the next call to the router fetches it again."""
    global _table
    _table = None


def _learn(body: object | None, err: APIError | None) -> Table:
    global _table
    if err is not None:
        logger.info("no router prices (usage.cost stays unset): %s", err)
    _table = router_prices(body) if body is not None else {}
    return _table


def router_table(transport: SyncTransport) -> Table:
    """The router's prices, fetched with `transport` the first time (one fetch even with many threads)."""
    if _table is not None:
        return _table
    with _lock:
        if _table is not None:
            return _table
        try:
            return _learn(transport.send(HTTPCall("GET", ROUTER_MODELS_URL)).body, None)
        except APIError as err:
            return _learn(None, err)


async def arouter_table(transport: AsyncTransport) -> Table:
    """Async twin of `router_table` (tasks that ask at the same moment may each fetch it once)."""
    if _table is not None:
        return _table
    try:
        return _learn((await transport.send(HTTPCall("GET", ROUTER_MODELS_URL))).body, None)
    except APIError as err:
        return _learn(None, err)
