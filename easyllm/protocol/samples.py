"""Several samples (`n > 1`) streamed as one OpenAI stream, as pure code.

Each sample has its own request and its own stream consumer, whose chunks carry that sample's `index`. The
shells (`easyllm.streaming`) open every request first, so the server generates the samples concurrently, then
read them one after another: all of index 0, then all of index 1, and so on. OpenAI's clients group chunks by
`choices[0].index`, so this is a valid order for them. `Samples` makes the pieces one answer:

- every chunk gets the `id` and `created` of the call's first chunk (servers give each request its own);
- each sample's usage chunk is held back, and one usage chunk for the whole call comes last (prompt tokens
  once, completion tokens summed), as OpenAI sends it with `stream_options.include_usage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from easyllm.protocol.sse import EventConsumer

__all__ = ["Samples", "split_opened", "sum_usage"]

R = TypeVar("R")


def sum_usage(usages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One call's usage from its samples': the prompt counted once, completions summed, estimates flagged.

    Example:
        >>> sum_usage([{"prompt_tokens": 5, "completion_tokens": 2}, {"prompt_tokens": 5, "completion_tokens": 3}])
        {'prompt_tokens': 5, 'completion_tokens': 5, 'total_tokens': 10}
    """
    prompt = usages[0]["prompt_tokens"]
    completion = sum(u["completion_tokens"] for u in usages)
    result: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion}
    result["total_tokens"] = prompt + completion
    if any(u.get("estimated") for u in usages):
        result["estimated"] = True
    return result


class Samples:
    """The consumers of one call's samples, and the chunks that end the whole stream (`end()`).

    With one sample the consumer is used as it is (nothing is added to the hot path).
    """

    def __init__(self, consumers: Sequence[EventConsumer]) -> None:
        self._usage_chunks: list[dict[str, Any]] = []
        self._header: tuple[Any, Any] | None = None
        self.consumers: list[EventConsumer] = (
            list(consumers) if len(consumers) == 1 else [_Sample(c, self) for c in consumers]
        )

    def take(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One sample's chunks as the caller gets them: usage held back, the call's `id` and `created` stamped."""
        out = []
        for item in items:
            if not item["choices"] and "usage" in item:
                self._usage_chunks.append(item)
                continue
            if self._header is None:
                self._header = (item["id"], item["created"])
            item["id"], item["created"] = self._header
            out.append(item)
        return out

    def end(self) -> list[dict[str, Any]]:
        """After the last sample: the call's one usage chunk, when the samples had usage chunks."""
        if not self._usage_chunks:
            return []
        last = dict(self._usage_chunks[-1])
        if self._header is not None:
            last["id"], last["created"] = self._header
        last["usage"] = sum_usage([c["usage"] for c in self._usage_chunks])
        self._usage_chunks = []
        return [last]


class _Sample:
    """One sample's consumer, its output passed through `Samples.take` (an `EventConsumer` itself)."""

    __slots__ = ("_consumer", "_samples")

    def __init__(self, consumer: EventConsumer, samples: Samples) -> None:
        self._consumer = consumer
        self._samples = samples

    @property
    def done(self) -> bool:
        return self._consumer.done

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        return self._samples.take(self._consumer.feed(data))

    def finish(self) -> list[dict[str, Any]]:
        return self._samples.take(self._consumer.finish())


def split_opened(results: Sequence[R | BaseException]) -> tuple[list[R], BaseException | None]:
    """Opened streams and the first failure, from the outcome of opening each sample's request.

    The shells close the opened ones and raise the failure when there is one.

    Example:
        >>> split_opened(["r0", ValueError("boom"), "r2"])
        (['r0', 'r2'], ValueError('boom'))
    """
    opened = [r for r in results if not isinstance(r, BaseException)]
    failed = next((r for r in results if isinstance(r, BaseException)), None)
    return opened, failed
