"""What a call cost, in US dollars, as pure code: price tables, the router's price list, `usage.cost`.

Prices are US dollars per million tokens, `{"input": ..., "output": ...}`, from (first found):

1. a table the caller passes (`prices=` on a call, a client, or `huggingface.prices`), keyed by model id (an id
   with a `:provider` suffix may have its own row; else the bare id's row is used);
2. the Hugging Face router's model list (`GET https://router.huggingface.co/v1/models`; each model lists its
   providers, each with `pricing: {input, output}`), for calls to the router. A model pinned to a provider
   (`org/model:provider`) costs that provider's price, `:cheapest` the lowest; otherwise the price is known only
   when every live provider of the model charges the same (the router picks the provider, and the answer does
   not say which).

`usage.cost = (prompt_tokens * input + completion_tokens * output) / 1e6`; an answer from the cache costs 0. When
the token counts are estimates (`usage.estimated`), so is the cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from easyllm.errors import InvalidParameterError

__all__ = ["Price", "add_cost", "check_prices", "cost_of", "price_for", "router_prices"]


class Price(NamedTuple):
    """US dollars per million input (prompt) and output (completion) tokens."""

    input: float
    output: float


def _rate(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


def check_prices(table: object) -> dict[str, Price]:
    """A caller's price table checked: `{model id: {"input": usd_per_million, "output": usd_per_million}}`.

    Example:
        >>> check_prices({"org/m": {"input": 0.1, "output": 0.4}})
        {'org/m': Price(input=0.1, output=0.4)}
    """
    if not isinstance(table, Mapping):
        raise InvalidParameterError("must be a dict {model id: {'input': usd, 'output': usd}}", param="prices")
    checked = {}
    for model, row in table.items():
        rates = (_rate(row.get("input", 0)), _rate(row.get("output", 0))) if isinstance(row, Mapping) else (None,)
        if not isinstance(model, str) or None in rates:
            raise InvalidParameterError(
                f"row {model!r} must be {{'input': usd_per_million, 'output': usd_per_million}} (numbers >= 0)",
                param="prices",
            )
        checked[model] = Price(*rates)
    return checked


def router_prices(body: object) -> dict[str, dict[str, Price]]:
    """The router's model list as `{model id: {provider: Price}}` (live providers with a price only)."""
    models = body.get("data") if isinstance(body, Mapping) else None
    table: dict[str, dict[str, Price]] = {}
    for model in models if isinstance(models, list) else []:
        if not isinstance(model, Mapping) or not isinstance(model.get("id"), str):
            continue
        rows = table.setdefault(model["id"], {})
        for provider in model.get("providers") or []:
            pricing = provider.get("pricing") if isinstance(provider, Mapping) else None
            if not isinstance(pricing, Mapping) or provider.get("status", "live") != "live":
                continue
            rates = _rate(pricing.get("input")), _rate(pricing.get("output"))
            if None not in rates and isinstance(provider.get("provider"), str):
                rows[provider["provider"]] = Price(*rates)  # type: ignore[arg-type]
    return table


def price_for(
    model: str | None, table: Mapping[str, Price] | None, router: Mapping[str, Mapping[str, Price]] | None
) -> Price | None:
    """The price of `model`: the caller's table first, then the router's list; None when unknown.

    Example:
        >>> router = {"org/m": {"a": Price(1.0, 2.0), "b": Price(0.5, 1.0)}}
        >>> price_for("org/m:b", None, router), price_for("org/m:cheapest", None, router)
        (Price(input=0.5, output=1.0), Price(input=0.5, output=1.0))
        >>> price_for("org/m", None, router) is None  # the router picks the provider: unknown
        True
    """
    if not model:
        return None
    bare, _, suffix = model.partition(":")
    if table:
        found = table.get(model) or table.get(bare)
        if found is not None:
            return found
    offers = (router or {}).get(bare)
    if not offers:
        return None
    if suffix and suffix in offers:
        return offers[suffix]
    if suffix == "cheapest":
        return min(offers.values(), key=lambda price: (price.input + price.output, price.input))
    distinct = set(offers.values())
    return next(iter(distinct)) if len(distinct) == 1 and suffix in ("", "fastest", "preferred") else None


def cost_of(usage: Mapping[str, Any], price: Price) -> float:
    """US dollars for the tokens in `usage` (`prompt_tokens`, `completion_tokens`) at `price`."""
    prompt = usage.get("prompt_tokens") or 0
    completion = usage.get("completion_tokens") or 0
    return round((prompt * price.input + completion * price.output) / 1_000_000, 12)


def add_cost(answer: dict[str, Any], price: Price | None) -> dict[str, Any]:
    """Set `usage.cost` on an answer or chunk that has a usage (and is not from the cache); returns it."""
    usage = answer.get("usage")
    if price is not None and isinstance(usage, dict) and not usage.get("cached"):
        usage["cost"] = cost_of(usage, price)
    return answer
