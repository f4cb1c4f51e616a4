"""What a call does besides sending: the answer cache and the cost, in both shells.

These wrap `easyllm.calls` and `easyllm.embedding_calls`.

`addons_for` resolves a call's `cache=` and `prices=` (call, then client or module) into `AddOns`, or None
when there is nothing to do: then the call goes straight to `calls` / `embedding_calls` and pays nothing for this.
The keys, what is stored and the cost are pure (`easyllm.protocol.caching`, `easyllm.protocol.pricing`); the
router's price list is fetched once per process (`easyllm.prices`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from easyllm import calls, embedding_calls, prices, probing
from easyllm.cache import Cache, resolve_cache
from easyllm.dialects import ChatCall, TextCall
from easyllm.protocol.caching import (
    completion_key,
    embedding_keys,
    mark_cached,
    merge_embeddings,
    pack_embedding,
    reproducible,
    request_identity,
    unpack_embedding,
)
from easyllm.protocol.embeddings import EmbeddingOptions, EmbeddingPlan
from easyllm.protocol.generation import CompletionPlan
from easyllm.protocol.pricing import Price, add_cost, check_prices, price_for
from easyllm.protocol.requests import check_embeddings
from easyllm.schema.openai import to_object
from easyllm.settings import Settings
from easyllm.streaming import AsyncStream, Stream
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = ["AddOns", "acomplete", "addons_for", "aembed", "batch_convert", "complete", "embed"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
C = TypeVar("C")
Convert = Callable[[dict[str, Any]], T]


@dataclass(frozen=True)
class AddOns:
    """A call's cache (or None), its caller's price table (or None), and whether to look prices up on the router."""

    cache: Cache | None
    prices: Mapping[str, Price] | None
    router: bool


def addons_for(settings: Settings, caches: Sequence[object], price_tables: Sequence[object]) -> AddOns | None:
    """The add-ons of a call from its `cache=` and `prices=` specs, most specific first; None when there are none."""
    if all(spec is None for spec in caches) and all(table is None for table in price_tables):  # the usual call
        return AddOns(None, None, True) if prices.is_router(settings) else None
    cache = resolve_cache(*caches)
    table_spec = next((table for table in price_tables if table is not None), None)
    table = check_prices(table_spec) if table_spec is not None else None
    router = prices.is_router(settings)
    if cache is None and table is None and not router:
        return None
    return AddOns(cache, table, router)


Call = ChatCall | TextCall


def _completion_key(plan: CompletionPlan, addons: AddOns, dialect: str) -> str | None:
    cache = addons.cache
    options = getattr(plan, "options", None)
    if cache is None or not (cache.completions == "always" or reproducible(options)):
        return None
    shaping = {
        "options": options.model_dump(mode="json") if options is not None else None,
        "stops": list(getattr(plan, "stops", ())),
    }
    return completion_key(getattr(plan, "kind", "chat"), dialect, plan.calls, shaping)


def _replayed(hit: object, stream: bool) -> list[dict[str, Any]] | dict[str, Any] | None:
    """A stored answer (a dict) or stream (a list of chunks), marked as cached; None if it is not one."""
    if not isinstance(hit, dict):
        return None
    if stream and isinstance(hit.get("chunks"), list):
        return [mark_cached(chunk) for chunk in hit["chunks"]]
    if not stream and isinstance(hit.get("answer"), dict):
        return mark_cached(hit["answer"])
    return None


def _recorders(
    cache: Cache | None, key: str | None, convert: Convert[T], chunk: Convert[C], price: Price | None
) -> tuple[Convert[T], Convert[C], list[str]]:
    """`convert` and `chunk` that add the cost and, with a key, keep what they shape for the cache."""
    chunks: list[str] = []

    def whole(answer: dict[str, Any]) -> T:
        if cache is not None and key is not None:
            cache.set(key, {"answer": answer})  # serialised now, before the cost is added
        return convert(add_cost(answer, price))

    def part(item: dict[str, Any]) -> C:
        if key is not None:
            chunks.append(json.dumps(item))
        return chunk(add_cost(item, price))

    return whole, part, chunks


def _store_chunks(cache: Cache, key: str, chunks: list[str]) -> Callable[[], None]:
    return lambda: cache.set(key, {"chunks": [json.loads(item) for item in chunks]})


# ---------------------------------------------------------------- completions


def complete(
    call: Call, transport: SyncTransport, convert: Convert[T], chunk_convert: Convert[C], addons: AddOns | None
) -> T | Stream[C]:
    """`calls.complete` with the cache (reproducible calls) and the cost (when the price is known)."""
    if addons is None:
        return calls.complete(call, transport, convert, chunk_convert)
    dialect, plan = calls.prepare(call, transport)
    key = _completion_key(plan, addons, dialect.name)
    if key is not None and addons.cache is not None:
        hit = _replayed(addons.cache.get(key), plan.stream)
        if isinstance(hit, list):
            return Stream.replay(hit, chunk_convert)
        if hit is not None:
            return convert(hit)
    table = prices.router_table(transport) if addons.router and prices.priced_by_router(plan.calls) else None
    price = price_for(call.model, addons.prices, table)
    whole, part, chunks = _recorders(addons.cache, key, convert, chunk_convert, price)
    result = calls.send_plan(plan, transport, whole, part)
    if isinstance(result, Stream) and key is not None and addons.cache is not None:
        result.add_done_callback(_store_chunks(addons.cache, key, chunks))
    return result


async def acomplete(
    call: Call, transport: AsyncTransport, convert: Convert[T], chunk_convert: Convert[C], addons: AddOns | None
) -> T | AsyncStream[C]:
    """Async twin of `complete`."""
    if addons is None:
        return await calls.acomplete(call, transport, convert, chunk_convert)
    dialect, plan = await calls.aprepare(call, transport)
    key = _completion_key(plan, addons, dialect.name)
    if key is not None and addons.cache is not None:
        hit = _replayed(addons.cache.get(key), plan.stream)
        if isinstance(hit, list):
            return AsyncStream.replay(hit, chunk_convert)
        if hit is not None:
            return convert(hit)
    by_router = addons.router and prices.priced_by_router(plan.calls)
    table = await prices.arouter_table(transport) if by_router else None
    price = price_for(call.model, addons.prices, table)
    whole, part, chunks = _recorders(addons.cache, key, convert, chunk_convert, price)
    result = await calls.asend_plan(plan, transport, whole, part)
    if isinstance(result, AsyncStream) and key is not None and addons.cache is not None:
        result.add_done_callback(_store_chunks(addons.cache, key, chunks))
    return result


# ---------------------------------------------------------------- embeddings


def batch_convert(convert: Convert[T], addons: AddOns | None, model: str | None) -> Convert[T]:
    """`convert` for `iter_batches`: each batch's `usage.cost` from the caller's price table (no cache there)."""
    price = price_for(model, addons.prices, None) if addons is not None else None
    if price is None:
        return convert
    return lambda answer: convert(add_cost(answer, price))


def _identity(plan: EmbeddingPlan) -> dict[str, Any]:
    """What identifies an embedding request but its inputs (for the per-text keys).

    That is a request with a placeholder input, the model, and how the vectors are finished on the client. How
    the vectors travel (base64 or floats, learned per server) does not change them, so the key asks for floats.
    """
    return {
        "request": request_identity(plan.call(range(1), "float")),
        "model": plan.request_model or plan.model,
        "normalize": plan.normalize,
        "encoding_format": plan.encoding_format,
        "dimensions": plan.dimensions,
    }


def _placeholder(args: Mapping[str, Any]) -> dict[str, Any]:
    return {**args, "input": ["."]}


@dataclass
class _Split:
    """An embedding call's inputs split into those the cache has and those to send."""

    keys: list[str]
    cached: dict[int, tuple[str, list[float] | str]]
    missing: list[int]


def _split(keys: list[str], stored: list[Any]) -> _Split:
    cached = {}
    for position, value in enumerate(stored):
        found = unpack_embedding(value) if value is not None else None
        if found is not None:
            cached[position] = found
    return _Split(keys, cached, [i for i in range(len(keys)) if i not in cached])


def _stored(split: _Split, fresh: Mapping[str, Any]) -> list[tuple[str, Any]]:
    model = fresh["model"]
    keys, missing = split.keys, split.missing
    return [(keys[missing[item["index"]]], pack_embedding(model, item["embedding"])) for item in fresh["data"]]


def _log_total(count: int, answer: Mapping[str, Any]) -> None:
    usage = answer["usage"]
    cost = usage.get("cost")
    logger.info(
        "embedded %d inputs (%d from the cache), %d tokens sent%s",
        count, usage.get("cached_inputs", 0), usage.get("prompt_tokens", 0),
        f", ${cost:.6f}" if cost is not None else "",
    )  # fmt: skip


def embed(
    settings: Settings,
    args: Mapping[str, Any],
    transport: SyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str,
    addons: AddOns | None,
) -> T:
    """`embedding_calls.embed_inputs` with the cache (per input text) and the cost.

    The cost comes from the caller's prices only: the router's list has no embedding models.
    """
    if addons is None or (addons.cache is None and not addons.prices):
        return embedding_calls.embed_inputs(settings, args, transport, convert, options, engine)
    price = price_for(args.get("model"), addons.prices, None)
    if addons.cache is None:
        whole = embedding_calls.embed_inputs(settings, args, transport, to_object, options, engine)
        answer = add_cost(dict(whole), price)
        _log_total(len(whole["data"]), answer)
        return convert(answer)
    check_embeddings(args)
    inputs = list(args["input"])
    plan = embedding_calls.prepared(settings, _placeholder(args), options, engine, transport)[0]
    keys = embedding_keys(probing.current(settings, engine).name, _identity(plan), inputs)
    split = _split(keys, addons.cache.get_many(keys))
    fresh = None
    if split.missing:
        todo = {**args, "input": [inputs[i] for i in split.missing]}
        fresh = embedding_calls.embed_inputs(settings, todo, transport, to_object, options, engine)
        addons.cache.set_many(_stored(split, fresh))
    answer = add_cost(merge_embeddings(len(inputs), split.cached, split.missing, fresh), price)
    _log_total(len(inputs), answer)
    return convert(answer)


async def aembed(
    settings: Settings,
    args: Mapping[str, Any],
    transport: AsyncTransport,
    convert: Convert[T],
    options: EmbeddingOptions,
    engine: str,
    addons: AddOns | None,
) -> T:
    """Async twin of `embed` (the cache's disk work runs in a thread)."""
    if addons is None or (addons.cache is None and not addons.prices):
        return await embedding_calls.aembed_inputs(settings, args, transport, convert, options, engine)
    price = price_for(args.get("model"), addons.prices, None)
    if addons.cache is None:
        whole = await embedding_calls.aembed_inputs(settings, args, transport, to_object, options, engine)
        answer = add_cost(dict(whole), price)
        _log_total(len(whole["data"]), answer)
        return convert(answer)
    check_embeddings(args)
    inputs = list(args["input"])
    plan = (await embedding_calls.aprepared(settings, _placeholder(args), options, engine, transport))[0]
    keys = embedding_keys(probing.current(settings, engine).name, _identity(plan), inputs)
    split = _split(keys, await asyncio.to_thread(addons.cache.get_many, keys))
    fresh = None
    if split.missing:
        todo = {**args, "input": [inputs[i] for i in split.missing]}
        fresh = await embedding_calls.aembed_inputs(settings, todo, transport, to_object, options, engine)
        await asyncio.to_thread(addons.cache.set_many, _stored(split, fresh))
    answer = add_cost(merge_embeddings(len(inputs), split.cached, split.missing, fresh), price)
    _log_total(len(inputs), answer)
    return convert(answer)
