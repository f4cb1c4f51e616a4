"""One thread per model: inference runs off the event loop, requests wait their turn in order.

A job is a function run in the worker thread with an `emit` callback (to stream values back to the event loop)
and a `cancel` event (set when the request's consumer goes away, e.g. a client disconnects mid-stream). Jobs run
one at a time in arrival order (FIFO), so a long generation delays the next generation on the same model but
never the event loop: `/health` and the other models keep answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
E = TypeVar("E")

Emit = Callable[[Any], None]
JobFunction = Callable[[Emit, threading.Event], T]


@dataclass
class _Job:
    function: JobFunction[Any]
    loop: asyncio.AbstractEventLoop
    out: asyncio.Queue[tuple[str, Any]]
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Done(Generic[T]):
    """The value a job returned, delivered after everything it emitted.

    Attributes:
        value: The return value.
    """

    value: T


class ModelWorker:
    """A thread that runs one model's jobs in order."""

    def __init__(self, name: str) -> None:
        """Create the worker; call `start` before submitting.

        Args:
            name: Used in the thread's name.
        """
        self.name = name
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"easyllm-serve-{name}", daemon=True)
        self.active = 0

    @property
    def waiting(self) -> int:
        """Jobs waiting to start."""
        return self._jobs.qsize()

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current job, then end the thread.

        Args:
            timeout: Seconds to wait for the thread.
        """
        self._jobs.put(None)
        self._thread.join(timeout)

    async def stream(self, function: JobFunction[T]) -> AsyncIterator[Any]:
        """Run `function` in the worker; yield what it emits, then `Done(return value)`.

        Closing the iterator early sets the job's cancel event, so the worker stops at its next check.

        Args:
            function: Called as `function(emit, cancel)` in the worker thread.

        Yields:
            Each emitted value, then a `Done`.

        Raises:
            Exception: Whatever `function` raised, re-raised here.
        """
        job = _Job(function, asyncio.get_running_loop(), asyncio.Queue())
        self._jobs.put(job)
        try:
            while True:
                kind, value = await job.out.get()
                if kind == "error":
                    raise value
                yield Done(value) if kind == "done" else value
                if kind == "done":
                    return
        finally:
            job.cancel.set()

    async def run(self, function: JobFunction[T]) -> T:
        """Run `function` in the worker and return its value (emitted values are dropped).

        Args:
            function: Called as `function(emit, cancel)`.

        Returns:
            Its return value.
        """
        async for item in self.stream(function):
            if isinstance(item, Done):
                return item.value  # type: ignore[no-any-return]
        raise RuntimeError("worker job ended without a result")  # pragma: no cover

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if job.cancel.is_set():
                continue
            self.active = 1
            try:
                result = job.function(partial(_send, job, "item"), job.cancel)
                _send(job, "done", result)
            except BaseException as err:  # sent to the waiting request, which raises it
                _send(job, "error", err)
            finally:
                self.active = 0


def _send(job: _Job, kind: str, value: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the event loop has closed: nobody is listening
        job.loop.call_soon_threadsafe(job.out.put_nowait, (kind, value))
