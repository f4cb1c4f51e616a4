"""The only I/O in easyllm: pooled httpx clients, the retry policy, and error mapping.

It decides nothing about payloads: it sends the `HTTPCall`s that `easyllm.protocol` planned and hands back
`Reply`s or open streaming responses. `SyncTransport` and `AsyncTransport` differ only in how they wait.

Retries (one tenacity policy for both): connect errors, 429 (honouring `Retry-After`), 502, 503 (honouring
`estimated_time` of a loading model), 504; exponential backoff with jitter otherwise; at most `max_retries`
retries, all under one deadline of `timeout` seconds. A wait that cannot fit in the deadline is not taken: the
server's error is raised at once. Streams are retried only while opening, never once data has been handed out.

Requests with a whole answer (not streams) on easyllm's own clients skip `httpx.Client.send` and go to the client's
transport, when nothing `send` does applies to them (see `_direct`): no proxy from the environment, no credentials
in the URL, `httpx`'s request log off. A redirect is handed to `send` (the request is sent again and followed
there); cookies an answer sets are stored in the client's jar. `send`'s layers cost ≈ 13 % of a 10,000-text
embedding call's CPU (bench C).

Several endpoints (`Settings.pool`): every attempt, the first included, goes to the endpoint the pool chooses, its
URL rebased there. A failure that is the endpoint's fault (connect error or timeout, 5xx, 429) rests it and the
next attempt goes to another endpoint at once (no backoff while an untried healthy one is left), under the same
deadline and `max_retries`. A request is sent again only after it failed, and never to an endpoint it already
tried while an untried healthy one is left.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import urllib.request
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from typing import Any, TypeVar

import httpx
import tenacity

from easyllm import __version__
from easyllm.endpoints import Failover
from easyllm.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    error_from_response,
    request_location,
    with_location,
)
from easyllm.log import apply_log_env
from easyllm.protocol.generation import HTTPCall, Reply
from easyllm.protocol.json_decode import loads
from easyllm.protocol.messages import reclassify_error
from easyllm.settings import Settings

__all__ = [
    "AsyncTransport",
    "SyncTransport",
    "close_pools",
    "is_retryable",
    "new_async_http_client",
    "new_http_client",
]

logger = logging.getLogger(__name__)

R = TypeVar("R")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Seconds a probe (`GET /info`, `/version`, …: what kind of server is this?) may take.
PROBE_TIMEOUT = 5.0
USER_AGENT = f"easyllm/{__version__}"


# ---------------------------------------------------------------- connection pools


_sync_pool: dict[str, httpx.Client] = {}
_sync_lock = threading.Lock()
_async_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, minus the cost of reading an answer that sets no cookie.

    httpx hands every response to `http.cookiejar` (about 70 µs: it rebuilds the headers as an email message),
    which only ever reads `Set-Cookie` and `Set-Cookie2`; an answer without them changes nothing, so it is skipped.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        """Store the cookies `response` sets (as httpx does), if it sets any."""
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


_C = TypeVar("_C", httpx.Client, httpx.AsyncClient)


def _lean_cookies(client: _C) -> _C:
    # httpx offers no hook for its jar; its `cookies` setter would wrap ours back into a plain `Cookies`.
    client._cookies = _Cookies(client.cookies)
    return client


# easyllm's own clients -> the transport they were made with (absent: the environment names a proxy, which httpx
# mounts per scheme, so every request goes through `send`).
_direct_sync: weakref.WeakKeyDictionary[httpx.Client, httpx.BaseTransport] = weakref.WeakKeyDictionary()
_direct_async: weakref.WeakKeyDictionary[httpx.AsyncClient, httpx.AsyncBaseTransport] = weakref.WeakKeyDictionary()
_httpx_log = logging.getLogger("httpx")


def _environment_proxies() -> bool:
    """Whether httpx would mount a proxy from the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`)."""
    proxies = urllib.request.getproxies()  # what httpx reads
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def new_http_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An `httpx.Client` as easyllm opens its own (its user agent; cookies read only from answers that set some).

    `transport`: the one to use (a test's `httpx.MockTransport`); by default httpx's own `HTTPTransport`, or, when
    the environment names a proxy, whatever httpx mounts for it.
    """
    if transport is None and not _environment_proxies():
        transport = httpx.HTTPTransport()  # what httpx.Client would make itself
    client = _lean_cookies(httpx.Client(headers={"user-agent": USER_AGENT}, transport=transport))
    if transport is not None:
        _direct_sync[client] = transport
    return client


def new_async_http_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """Async twin of `new_http_client`."""
    if transport is None and not _environment_proxies():
        transport = httpx.AsyncHTTPTransport()
    client = _lean_cookies(httpx.AsyncClient(headers={"user-agent": USER_AGENT}, transport=transport))
    if transport is not None:
        _direct_async[client] = transport
    return client


def _sync_client(origin: str) -> httpx.Client:
    with _sync_lock:
        client = _sync_pool.get(origin)
        if client is None or client.is_closed:
            client = _sync_pool[origin] = new_http_client()
        return client


def _async_client(origin: str) -> httpx.AsyncClient:
    pool = _async_pools.setdefault(asyncio.get_running_loop(), {})
    client = pool.get(origin)
    if client is None or client.is_closed:
        client = pool[origin] = new_async_http_client()
    return client


@lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    """A URL parsed once: httpx parses and validates a URL string on every request (about 30 µs)."""
    return httpx.URL(url)


def close_pools() -> None:
    """Close the pooled sync connections (async pools close with `aclose_pools`)."""
    with _sync_lock:
        for client in _sync_pool.values():
            client.close()
        _sync_pool.clear()


async def aclose_pools() -> None:
    """Close the pooled async connections of the running event loop."""
    pool = _async_pools.pop(asyncio.get_running_loop(), {})
    for client in pool.values():
        await client.aclose()


# ---------------------------------------------------------------- logging


_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|signature", re.IGNORECASE)


def redact_headers(headers: httpx.Headers) -> dict[str, str]:
    """Headers as a dict with credentials replaced (any name that reads like one), safe to log."""
    return {k: ("<redacted>" if _SECRET_HEADER.search(k) else v) for k, v in headers.items()}


def _log_request(request: httpx.Request) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s %s headers=%s", request.method, request.url, redact_headers(request.headers))


# ---------------------------------------------------------------- the retry policy


class Deadline:
    """The call's overall time budget, shared by every attempt and wait."""

    __slots__ = ("end", "total")

    def __init__(self, total: float) -> None:
        self.total = total
        self.end = time.monotonic() + total

    def remaining(self) -> float:
        """Seconds left; never negative."""
        return max(0.0, self.end - time.monotonic())


def is_retryable(exc: BaseException) -> bool:
    """Whether an error is worth another attempt (connect errors and 429/502/503/504)."""
    if isinstance(exc, APITimeoutError):
        return False
    if isinstance(exc, APIStatusError):
        return exc.status_code in RETRY_STATUSES
    return isinstance(exc, APIConnectionError)


def endpoint_fault(exc: BaseException) -> str | None:
    """Why a failed attempt is its endpoint's fault (connect error, timeout, 5xx, 429), or None (the request's)."""
    if isinstance(exc, APIStatusError):
        if exc.status_code == 429 or (exc.status_code >= 500 and reclassify_error(exc) is exc):
            return f"HTTP {exc.status_code}"
        return None
    if isinstance(exc, APITimeoutError):  # the server's slowness, not the call's own deadline running out
        return str(exc) if isinstance(exc.__cause__, httpx.TimeoutException) else None
    return str(exc) if isinstance(exc, APIConnectionError) else None


def _fails_over(exc: BaseException) -> bool:
    return is_retryable(exc) or endpoint_fault(exc) is not None


_backoff = tenacity.wait_exponential(multiplier=0.5, max=8.0) + tenacity.wait_random(0, 0.5)


def _wait(state: tenacity.RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    retry_after = getattr(exc, "retry_after", None)
    return float(retry_after) if retry_after is not None else float(_backoff(state))


def retry_policy(settings: Settings, deadline: Deadline, failover: Failover | None = None) -> dict[str, Any]:
    """Keyword arguments for `tenacity.Retrying` and `tenacity.AsyncRetrying` alike.

    With `failover` (several endpoints), any endpoint fault is retried, at once while an untried healthy endpoint
    is left.
    """

    def stop(state: tenacity.RetryCallState) -> bool:
        return state.attempt_number > settings.max_retries or state.upcoming_sleep >= deadline.remaining()

    def wait(state: tenacity.RetryCallState) -> float:
        return 0.0 if failover is not None and failover.can_fail_over() else _wait(state)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.info("retrying in %.1fs after: %s", state.upcoming_sleep, exc)

    return {
        "stop": stop,
        "wait": wait if failover is not None else _wait,
        "retry": tenacity.retry_if_exception(_fails_over if failover is not None else is_retryable),
        "reraise": True,
        "before_sleep": before_sleep,
    }


def _first_failure(err: APIError, failover: Failover | None) -> APIError:
    """A first attempt's error: raised at once unless worth a retry, then replayed as tenacity's first attempt.

    Running the first attempt outside tenacity saves building its machinery on every call; replaying the failure
    as attempt 1 keeps the retry count, waits, deadline and final error exactly as if tenacity had run it.
    """
    if not (_fails_over(err) if failover is not None else is_retryable(err)):
        raise err
    return err


Attempt = Callable[[HTTPCall, Deadline], R]


def _pinned(attempt: Attempt[R], call: HTTPCall, failover: Failover | None) -> Callable[[Deadline], R]:
    """One try of `call`: as planned, or (with several endpoints) on the endpoint chosen for it."""
    if failover is None:
        return lambda deadline: attempt(call, deadline)

    def on_endpoint(deadline: Deadline) -> R:
        with failover.attempt(call, endpoint_fault) as url:
            return attempt(replace(call, url=url), deadline)

    return on_endpoint


def _apinned(
    attempt: Attempt[Awaitable[R]], call: HTTPCall, failover: Failover | None
) -> Callable[[Deadline], Awaitable[R]]:
    """Async twin of `_pinned` (the endpoint is held until the awaited attempt ends)."""
    if failover is None:
        return lambda deadline: attempt(call, deadline)

    async def on_endpoint(deadline: Deadline) -> R:
        with failover.attempt(call, endpoint_fault) as url:
            return await attempt(replace(call, url=url), deadline)

    return on_endpoint


# ---------------------------------------------------------------- shared request/response handling


def _timeout(call: HTTPCall, settings: Settings, deadline: Deadline, *, stream: bool) -> httpx.Timeout:
    left = deadline.remaining()
    if left <= 0:
        where = request_location(httpx.Request(call.method, call.url))
        raise APITimeoutError(message=f"Request timed out: the {deadline.total:g}s deadline passed ({where}).")
    # A stream's later reads may each take up to `timeout`; everything before the first byte shares the deadline.
    read = settings.timeout if stream else left
    return httpx.Timeout(left, connect=min(settings.connect_timeout, left), read=read)


def _headers(settings: Settings) -> dict[str, str]:
    return {"authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}


def _map_transport_error(err: httpx.TransportError, request: httpx.Request | None) -> APIError:
    if request is not None:
        err.request = request  # as `send` sets it (a transport reached directly raises without one)
    if isinstance(err, httpx.TimeoutException):
        message = with_location(f"Request timed out ({type(err).__name__}).", request)
        return APITimeoutError(request, message=message)
    message = with_location(f"Connection error: {type(err).__name__}: {err}", request)
    return APIConnectionError(message=message, request=request)


def _identity(response: httpx.Response) -> bool:
    """Whether the body is still to be read as sent (no `Content-Encoding`).

    Then the shells read `response.stream` itself: its bytes need no decoder, and `iter_raw`'s generator, chunker
    and byte count cost a microsecond or two per event of a token stream. The response is closed after reading.
    """
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    return encoding in ("", "identity") and not response.is_stream_consumed


_T = TypeVar("_T", httpx.BaseTransport, httpx.AsyncBaseTransport)


def _direct(transport: _T | None, client: httpx.Client | httpx.AsyncClient, request: httpx.Request) -> _T | None:
    """The client's own `transport` when `request` may go to it without `client.send`, else None.

    Only easyllm's own clients have one, and only when nothing `send` adds applies: no auth (none set on the
    client, no credentials in the URL), no event hooks, no proxy (then there is no direct transport), `httpx`'s own
    request log not enabled (it is written by `send`), the client open (`send` raises).
    """
    if transport is None or client.is_closed or request.url.userinfo or _httpx_log.isEnabledFor(logging.INFO):
        return None
    hooks = client.event_hooks
    if client.auth is not None or hooks["request"] or hooks["response"]:
        return None
    return transport


def _sent_directly(
    client: httpx.Client | httpx.AsyncClient, request: httpx.Request, response: httpx.Response, start: float
) -> bool:
    """Finish a response read without `send` as `send` would; False when it is a redirect, for `send` to follow.

    (A redirect answer was not acted on by the server: sending the request again through `send` is safe.)
    """
    response.request = request
    response.elapsed = timedelta(seconds=time.perf_counter() - start)
    if response.has_redirect_location:
        return False
    client.cookies.extract_cookies(response)
    return True


def _reply(response: httpx.Response, call: HTTPCall) -> Reply:
    if response.status_code >= 400:
        raise error_from_response(response)
    try:
        body = (call.decode or loads)(response.content)
    except ValueError as err:
        message = with_location(f"The server answered non-JSON: {response.text[:200]!r}", response.request)
        raise APIError(message, response.request) from err
    return Reply(body, response.headers)


class _Base:
    """Shared by both shells.

    Redirects are followed on every send (even with a caller's own client); httpx drops `Authorization` when a
    redirect leaves the origin, so the token never reaches another host.
    """

    def __init__(self, settings: Settings) -> None:
        apply_log_env()
        self.settings = settings

    def _request(
        self, client: httpx.Client | httpx.AsyncClient, call: HTTPCall, deadline: Deadline, *, stream: bool
    ) -> httpx.Request:
        headers = _headers(self.settings)
        if call.headers:
            headers.update(call.headers)
        request = client.build_request(
            call.method,
            _parsed_url(call.url),
            json=call.json,
            params=call.params,
            headers=headers,
            timeout=_timeout(call, self.settings, deadline, stream=stream),
        )
        _log_request(request)
        return request


# ---------------------------------------------------------------- the two shells


class SyncTransport(_Base):
    """Blocking I/O over a pooled `httpx.Client` (or one the caller supplies)."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        super().__init__(settings)
        self.client = client or _sync_client(settings.origin)
        self._direct_transport = _direct_sync.get(self.client)

    def _once(self, call: HTTPCall, deadline: Deadline) -> Reply:
        request = self._request(self.client, call, deadline, stream=False)
        try:
            response = self._send_whole(request)
        except httpx.TransportError as err:
            raise _map_transport_error(err, request) from err
        return _reply(response, call)

    def _send_whole(self, request: httpx.Request) -> httpx.Response:
        """`request` sent and its answer read: through the client's transport when `_direct` allows, else `send`."""
        transport = _direct(self._direct_transport, self.client, request)
        if transport is not None:
            start = time.perf_counter()
            response = transport.handle_request(request)
            try:
                response.read()
            finally:
                response.close()
            if _sent_directly(self.client, request, response, start):
                return response
        return self.client.send(request, follow_redirects=True)

    def _retrying(self, attempt: Attempt[R], call: HTTPCall) -> R:
        """Run `attempt` under the retry policy; the first try runs outside tenacity (most calls need no retry)."""
        deadline = Deadline(self.settings.timeout)
        failover = Failover(self.settings.pool, self.settings.api_base) if self.settings.pool is not None else None
        once = _pinned(attempt, call, failover)
        try:
            return once(deadline)
        except APIError as err:
            failed: APIError | None = _first_failure(err, failover)
        for state in tenacity.Retrying(**retry_policy(self.settings, deadline, failover)):
            with state:
                if failed is not None:
                    replay, failed = failed, None
                    raise replay
                return once(deadline)
        raise AssertionError("unreachable")  # pragma: no cover

    def send(self, call: HTTPCall) -> Reply:
        """Send one request with retries; return its decoded JSON reply."""
        return self._retrying(self._once, call)

    def probe(self, call: HTTPCall) -> Reply | None:
        """One short attempt, no retries: the reply, or None when the server gives no usable answer."""
        try:
            return self._once(call, Deadline(min(self.settings.timeout, PROBE_TIMEOUT)))
        except APIError:
            return None

    def _open(self, call: HTTPCall, deadline: Deadline) -> httpx.Response:
        request = self._request(self.client, call, deadline, stream=True)
        try:
            response = self.client.send(request, stream=True, follow_redirects=True)
        except httpx.TransportError as err:
            raise _map_transport_error(err, request) from err
        if response.status_code >= 400:
            try:
                response.read()
            finally:
                response.close()
            raise error_from_response(response)
        return response

    def open_stream(self, call: HTTPCall) -> httpx.Response:
        """Open a streaming response (retrying only while opening); the caller must close it."""
        return self._retrying(self._open, call)

    @staticmethod
    @contextmanager
    def chunks(response: httpx.Response) -> Iterator[Iterator[bytes]]:
        """The body's bytes as they arrive; transport errors while reading become easyllm errors; always closes."""
        try:
            yield iter(response.stream) if _identity(response) else response.iter_bytes()  # type: ignore[arg-type]
        except httpx.TransportError as err:
            raise _map_transport_error(err, response.request) from err
        finally:
            response.close()


class AsyncTransport(_Base):
    """Non-blocking I/O over a pooled `httpx.AsyncClient` (one pool per event loop) or one the caller supplies."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings)
        self.client = client or _async_client(settings.origin)
        self._direct_transport = _direct_async.get(self.client)

    async def _once(self, call: HTTPCall, deadline: Deadline) -> Reply:
        request = self._request(self.client, call, deadline, stream=False)
        try:
            response = await self._send_whole(request)
        except httpx.TransportError as err:
            raise _map_transport_error(err, request) from err
        return _reply(response, call)

    async def _send_whole(self, request: httpx.Request) -> httpx.Response:
        """Async twin of `SyncTransport._send_whole`."""
        transport = _direct(self._direct_transport, self.client, request)
        if transport is not None:
            start = time.perf_counter()
            response = await transport.handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
            if _sent_directly(self.client, request, response, start):
                return response
        return await self.client.send(request, follow_redirects=True)

    async def _retrying(self, attempt: Attempt[Awaitable[R]], call: HTTPCall) -> R:
        """Async twin of `SyncTransport._retrying`."""
        deadline = Deadline(self.settings.timeout)
        failover = Failover(self.settings.pool, self.settings.api_base) if self.settings.pool is not None else None
        once = _apinned(attempt, call, failover)
        try:
            return await once(deadline)
        except APIError as err:
            failed: APIError | None = _first_failure(err, failover)
        async for state in tenacity.AsyncRetrying(**retry_policy(self.settings, deadline, failover)):
            with state:
                if failed is not None:
                    replay, failed = failed, None
                    raise replay
                return await once(deadline)
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, call: HTTPCall) -> Reply:
        """Send one request with retries; return its decoded JSON reply."""
        return await self._retrying(self._once, call)

    async def probe(self, call: HTTPCall) -> Reply | None:
        """Async twin of `SyncTransport.probe`."""
        try:
            return await self._once(call, Deadline(min(self.settings.timeout, PROBE_TIMEOUT)))
        except APIError:
            return None

    async def _open(self, call: HTTPCall, deadline: Deadline) -> httpx.Response:
        request = self._request(self.client, call, deadline, stream=True)
        try:
            response = await self.client.send(request, stream=True, follow_redirects=True)
        except httpx.TransportError as err:
            raise _map_transport_error(err, request) from err
        if response.status_code >= 400:
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise error_from_response(response)
        return response

    async def open_stream(self, call: HTTPCall) -> httpx.Response:
        """Open a streaming response (retrying only while opening); the caller must close it."""
        return await self._retrying(self._open, call)

    @staticmethod
    @asynccontextmanager
    async def chunks(response: httpx.Response) -> AsyncIterator[AsyncIterator[bytes]]:
        """Async twin of `SyncTransport.chunks`."""
        try:
            yield aiter(response.stream) if _identity(response) else response.aiter_bytes()  # type: ignore[arg-type]
        except httpx.TransportError as err:
            raise _map_transport_error(err, response.request) from err
        finally:
            await response.aclose()
