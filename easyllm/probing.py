"""Finding out what a server is, once per base URL, in either shell (the I/O side of `easyllm.dialects`).

`needs_probe` (pure) says when the kind of server changes the request; then the probes of
`easyllm.dialects.probes` are asked in order, each URL once, with one short attempt and no retries, until one
matches. What was learned (the dialect's name, and `/info`'s answer for batch limits) is remembered per base URL
until `forget()`. A failed or unmatched probe is remembered too, so a server is never probed twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator

from easyllm.dialects import Dialect, choose, needs_probe, probes
from easyllm.protocol.generation import HTTPCall, Reply
from easyllm.settings import Settings
from easyllm.transport import AsyncTransport, SyncTransport

__all__ = ["adialect", "current", "dialect", "forget", "info", "pending"]

# base URL -> the dialect name its probes matched (None: none did)
_learned: dict[str, str | None] = {}
# (base URL, purpose) already probed
_probed: set[tuple[str, str]] = set()
# probe URL -> its answer's JSON (None: it failed)
_answers: dict[str, object] = {}

Flow = Generator[HTTPCall, "Reply | None", None]


def forget() -> None:
    """Forget every server's kind and probe answers; servers are probed again."""
    _learned.clear()
    _probed.clear()
    _answers.clear()


def info(settings: Settings, dialect: Dialect) -> object:
    """The server's `/info` answer if probing asked for it (None otherwise, or when it failed)."""
    url = dialect.info_url(settings)
    return _answers.get(url) if url is not None else None


def _flow(settings: Settings, purpose: str) -> Flow:
    """Ask the probes in order (each URL once) until one matches; remember the outcome."""
    base = settings.api_base
    _probed.add((base, purpose))
    for name, url, probe in probes(settings, purpose):
        if url not in _answers:
            reply = yield HTTPCall("GET", url)
            _answers[url] = reply.body if reply is not None else None
        if probe.matches(_answers[url]):
            _learned[base] = name
            return
    _learned.setdefault(base, None)


def pending(settings: Settings, engine: str, purpose: str) -> bool:
    """Whether a call for `purpose` should probe the server first (its kind matters and is not known yet)."""
    return needs_probe(settings, engine, purpose) and (settings.api_base, purpose) not in _probed


def current(settings: Settings, engine: str) -> Dialect:
    """The dialect as far as is known now, without any I/O."""
    return choose(settings, engine, _learned.get(settings.api_base))


def dialect(settings: Settings, engine: str, purpose: str, transport: SyncTransport) -> Dialect:
    """The dialect for a call, probing the server first when its kind matters and is not known yet."""
    if pending(settings, engine, purpose):
        _drive(_flow(settings, purpose), transport.probe)
    return current(settings, engine)


async def adialect(settings: Settings, engine: str, purpose: str, transport: AsyncTransport) -> Dialect:
    """Async twin of `dialect`."""
    if pending(settings, engine, purpose):
        await _adrive(_flow(settings, purpose), transport.probe)
    return current(settings, engine)


def _drive(flow: Flow, send: Callable[[HTTPCall], Reply | None]) -> None:
    try:
        call = next(flow)
        while True:
            call = flow.send(send(call))
    except StopIteration:
        return


async def _adrive(flow: Flow, send: Callable[[HTTPCall], Awaitable[Reply | None]]) -> None:
    try:
        call = next(flow)
        while True:
            call = flow.send(await send(call))
    except StopIteration:
        return
