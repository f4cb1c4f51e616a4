"""`Samples`: several sample streams as one OpenAI stream (pure code)."""

from __future__ import annotations

from typing import Any

from easyllm.protocol.samples import Samples, sum_usage


class Scripted:
    """A consumer that returns scripted chunks."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self.chunks = chunks
        self.done = False

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self.done = True
        return [dict(c) for c in self.chunks]

    def finish(self) -> list[dict[str, Any]]:
        return []


def delta(id: str, index: int) -> dict[str, Any]:
    return {"id": id, "created": index + 1, "choices": [{"index": index, "delta": {"content": "x"}}]}


def usage(id: str, completion: int, estimated: bool = False) -> dict[str, Any]:
    counts: dict[str, Any] = {"prompt_tokens": 4, "completion_tokens": completion, "total_tokens": 4 + completion}
    if estimated:
        counts["estimated"] = True
    return {"id": id, "created": 9, "choices": [], "usage": counts}


def test_one_sample_keeps_its_consumer_as_it_is() -> None:
    consumer = Scripted([delta("a", 0), usage("a", 2)])
    samples = Samples([consumer])
    assert samples.consumers == [consumer]
    assert samples.end() == []


def test_usage_chunks_become_one_summed_chunk_at_the_end_with_the_first_id() -> None:
    samples = Samples([Scripted([delta("a", 0), usage("a", 2)]), Scripted([delta("b", 1), usage("b", 3, True)])])
    first, second = (c.feed(b"data") for c in samples.consumers)
    assert [c["id"] for c in first + second] == ["a", "a"] and [c["created"] for c in first + second] == [1, 1]
    assert all(c["choices"] for c in first + second)
    (end,) = samples.end()
    assert end["choices"] == [] and (end["id"], end["created"]) == ("a", 1)
    assert end["usage"] == {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9, "estimated": True}
    assert samples.end() == []


def test_no_usage_chunks_means_no_end_chunk() -> None:
    samples = Samples([Scripted([delta("a", 0)]), Scripted([delta("b", 1)])])
    for consumer in samples.consumers:
        consumer.feed(b"data")
        assert consumer.done
    assert samples.end() == []


def test_sum_usage_counts_the_prompt_once() -> None:
    assert sum_usage([usage("a", 1)["usage"], usage("b", 1)["usage"]])["total_tokens"] == 6
