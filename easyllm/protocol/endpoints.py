"""Several endpoints for one model, as pure code: which endpoint an attempt goes to, and its URL there.

Requests are planned against the pool's first base URL; each attempt is then rebased onto the endpoint chosen for
it (`rebase`). `choose` picks the healthy endpoint with the fewest requests in flight for its weight, preferring
one this call has not tried yet; the stateful side (counts, cool-downs, the lock) is `easyllm.endpoints`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from urllib.parse import urlsplit

from easyllm.errors import InvalidParameterError

__all__ = ["check_bases", "choose", "rebase"]


def _kind(base: str) -> tuple[bool, bool]:
    """What the URL says about the server: (ends in `/v1`, is a model collection `…/models`)."""
    path = urlsplit(base).path.rstrip("/")
    return path.endswith("/v1"), path.endswith("/models")


def check_bases(bases: Sequence[object]) -> tuple[str, ...]:
    """Check a list of base URLs: at least one, each http(s), all of the same kind; trailing slashes dropped.

    Example:
        >>> check_bases(["http://a:8000/v1/", "http://b:8000/v1"])
        ('http://a:8000/v1', 'http://b:8000/v1')
    """
    if isinstance(bases, str) or not bases:
        raise InvalidParameterError("must be a non-empty list of http(s) URLs", param="api_base")
    checked: list[str] = []
    for base in bases:
        parts = urlsplit(base) if isinstance(base, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidParameterError(f"must hold http(s) URLs, got {base!r}", param="api_base")
        checked.append(str(base).rstrip("/"))
    if len(set(checked)) != len(checked):
        raise InvalidParameterError("lists the same URL twice", param="api_base")
    if len({_kind(base) for base in checked}) != 1:
        raise InvalidParameterError(
            "must list servers of one kind (all ending in /v1, all model collections, or all server roots)",
            param="api_base",
        )
    return tuple(checked)


def rebase(url: str, first: str, chosen: str) -> str:
    """`url` (planned under the pool's first base) moved under the chosen endpoint's base.

    Example:
        >>> rebase("http://a:1/v1/embeddings", "http://a:1/v1", "http://b:2/v1")
        'http://b:2/v1/embeddings'
    """
    if first == chosen:
        return url
    if not url.startswith(first):
        raise ValueError(f"{url!r} is not under the pool's first base {first!r}")
    return chosen + url[len(first) :]


def choose(
    in_flight: Sequence[int],
    weights: Sequence[float],
    unhealthy_until: Sequence[float],
    now: float,
    tried: Collection[int],
    turn: int = 0,
) -> int:
    """The endpoint for the next attempt of a call that has already tried `tried`.

    Healthy endpoints this call has not tried come first, then healthy ones it has; among them the fewest requests
    in flight per unit of weight wins, ties going round-robin from `turn`. When none is healthy, the one whose
    cool-down ends first (untried first): a request is never refused only because every endpoint failed recently.

    Example:
        >>> choose([3, 1], [1.0, 1.0], [0.0, 0.0], now=10.0, tried=())
        1
        >>> choose([0, 0], [1.0, 1.0], [0.0, 99.0], now=10.0, tried=())
        0
    """
    count = len(in_flight)
    order = [(turn + step) % count for step in range(count)]
    healthy = [i for i in order if unhealthy_until[i] <= now]
    for group in ([i for i in healthy if i not in tried], healthy):
        if group:
            return min(group, key=lambda i: (in_flight[i] + 1) / weights[i])
    resting = [i for i in order if i not in tried] or order
    return min(resting, key=lambda i: unhealthy_until[i])
