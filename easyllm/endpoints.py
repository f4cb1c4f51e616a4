"""`EndpointPool`: several servers of the same model behind one `api_base` / `base_url`.

Pass a list of base URLs (or an `EndpointPool`, for weights and the cool-down) where one URL would go:

Example:
    >>> import easyllm
    >>> pool = easyllm.EndpointPool(["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"], weights=[2, 1])
    >>> client = easyllm.HuggingFace(base_url=pool)  # doctest: +SKIP

Every attempt of every call picks an endpoint (`easyllm.protocol.endpoints.choose`: the healthy one with the fewest
requests in flight for its weight, one this call has not tried first). A connect error, a 5xx or an overload answer
(429) marks the endpoint unhealthy for `cooldown` seconds and the call fails over to another endpoint at once,
within the call's deadline and `max_retries`. The state is shared by every call in the process, both shells
included; the same list of URLs always means the same pool. Choices and health changes go to the
`easyllm.endpoints` logger (debug and info).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from easyllm.errors import InvalidParameterError
from easyllm.protocol.endpoints import check_bases, choose, rebase

__all__ = ["DEFAULT_COOLDOWN", "EndpointPool", "Failover", "pool_of"]

logger = logging.getLogger(__name__)

#: Seconds an endpoint rests after a failure before it is tried again.
DEFAULT_COOLDOWN = 30.0


class _Call(Protocol):
    @property
    def url(self) -> str: ...


class EndpointPool:
    """Base URLs of one model's servers, with the health and load of each (thread-safe; shared by both shells).

    Args:
        urls: base URLs of servers of the same kind (all `/v1`, all TGI/TEI roots, or all model collections).
        weights: relative capacity of each endpoint (default 1 each): twice the weight, twice the requests.
        cooldown: seconds an endpoint that failed is left out (it is still used when every endpoint is resting).
    """

    def __init__(
        self, urls: Sequence[str], *, weights: Sequence[float] | None = None, cooldown: float = DEFAULT_COOLDOWN
    ) -> None:
        self.bases = check_bases(urls)
        chosen = [1.0] * len(self.bases) if weights is None else list(weights)
        if len(chosen) != len(self.bases) or any(
            isinstance(w, bool) or not isinstance(w, int | float) or w <= 0 for w in chosen
        ):
            raise InvalidParameterError("must be one positive number per URL", param="weights")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int | float) or cooldown < 0:
            raise InvalidParameterError("must be a number of seconds >= 0", param="cooldown")
        self.weights = tuple(float(w) for w in chosen)
        self.cooldown = float(cooldown)
        self._lock = threading.Lock()
        self._in_flight = [0] * len(self.bases)
        self._until = [0.0] * len(self.bases)
        self._turn = 0

    @property
    def first(self) -> str:
        """The base URL requests are planned against (then rebased per attempt)."""
        return self.bases[0]

    def __len__(self) -> int:
        return len(self.bases)

    def __repr__(self) -> str:
        return f"EndpointPool({list(self.bases)!r}, weights={list(self.weights)!r}, cooldown={self.cooldown:g})"

    def healthy(self) -> list[str]:
        """The endpoints not resting after a failure, right now."""
        now = time.monotonic()
        with self._lock:
            return [base for base, until in zip(self.bases, self._until, strict=True) if until <= now]

    def in_flight(self) -> list[int]:
        """Requests in flight on each endpoint, right now."""
        with self._lock:
            return list(self._in_flight)

    def acquire(self, tried: set[int]) -> int:
        """Pick the endpoint of an attempt and count it in flight (`release` must follow)."""
        with self._lock:
            now = time.monotonic()
            index = choose(self._in_flight, self.weights, self._until, now, tried, self._turn)
            self._turn = (self._turn + 1) % len(self.bases)
            self._in_flight[index] += 1
            load, resting = self._in_flight[index], self._until[index] > now
        if logger.isEnabledFor(logging.DEBUG):
            note = " (every endpoint is resting)" if resting else ""
            logger.debug("endpoint %s chosen, %d in flight%s", self.bases[index], load, note)
        return index

    def release(self, index: int, failure: str | None = None) -> None:
        """An attempt on endpoint `index` ended; a `failure` (its reason) rests the endpoint for `cooldown`."""
        recovered = False
        with self._lock:
            self._in_flight[index] -= 1
            now = time.monotonic()
            if failure is not None:
                self._until[index] = now + self.cooldown
            elif 0.0 < self._until[index] <= now:  # a success after the rest (not one begun before the failure)
                self._until[index], recovered = 0.0, True
        if failure is not None:
            logger.info("endpoint %s unhealthy for %gs after: %s", self.bases[index], self.cooldown, failure)
        elif recovered:
            logger.info("endpoint %s healthy again", self.bases[index])

    def has_untried_healthy(self, tried: set[int]) -> bool:
        """Whether a healthy endpoint is left that this call has not tried (then failing over needs no wait)."""
        now = time.monotonic()
        with self._lock:
            return any(until <= now and i not in tried for i, until in enumerate(self._until))


_pools: dict[tuple[str, ...], EndpointPool] = {}
_pools_lock = threading.Lock()


def pool_of(value: Sequence[str] | EndpointPool) -> EndpointPool:
    """The pool for a list of base URLs (the same list always gives the same pool), or the pool itself."""
    if isinstance(value, EndpointPool):
        return value
    bases = check_bases(value)
    with _pools_lock:
        pool = _pools.get(bases)
        if pool is None:
            pool = _pools[bases] = EndpointPool(bases)
        return pool


class Failover:
    """One call's way through a pool: each attempt takes an endpoint, and reports how it went."""

    def __init__(self, pool: EndpointPool, planned: str | None = None) -> None:
        self.pool = pool
        self.planned = planned or pool.first  # the base the requests were planned under
        self.tried: set[int] = set()

    @contextmanager
    def attempt(self, call: _Call, failure_of: _Classify) -> Iterator[str]:
        """Choose the attempt's endpoint; yield the call's URL there; rest the endpoint if the attempt failed.

        `failure_of(exc)` says whether an exception is the endpoint's fault (and why), or None.
        """
        index = self.pool.acquire(self.tried)
        self.tried.add(index)
        failure: str | None = None
        try:
            yield rebase(call.url, self.planned, self.pool.bases[index])
        except BaseException as exc:
            failure = failure_of(exc)
            raise
        finally:
            self.pool.release(index, failure)

    def can_fail_over(self) -> bool:
        """Whether another healthy endpoint is left for this call."""
        return self.pool.has_untried_healthy(self.tried)


class _Classify(Protocol):
    def __call__(self, exc: BaseException, /) -> str | None: ...
