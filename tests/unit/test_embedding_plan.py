"""The embedding plan as pure code: refusals that shrink a batch, `batch_flow`, options, merging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from easyllm.errors import APIStatusError, InvalidParameterError, error_from_response
from easyllm.protocol.embeddings import (
    BatchLimit,
    EmbeddedBatch,
    batch_flow,
    embedding_options,
    merge_batches,
    plan_embeddings,
    smaller_batch_size,
)
from easyllm.protocol.generation import Reply


@pytest.mark.parametrize(
    ("status", "message", "size", "expected"),
    [
        (413, "batch size 40 > maximum allowed batch size 32", 40, (32, True)),
        (422, "Error code: 422 - batch size 40 > maximum allowed batch size 32", 40, (32, True)),
        (422, "batch size too large", 40, (20, True)),
        (413, "Failed to buffer the request body: length limit exceeded", 9, (4, False)),
        (413, "`inputs` must have less than 512 tokens. Given: 600", 9, None),
        (422, "Input validation error: bad input", 9, None),
        (413, "batch size 2 > maximum allowed batch size 1", 1, None),
        (500, "batch size", 9, None),
    ],
)
def test_smaller_batch_size(status: int, message: str, size: int, expected: tuple[int, bool] | None) -> None:
    assert smaller_batch_size(status, message, size) == expected


def refusal(status: int, message: str) -> APIStatusError:
    request = httpx.Request("POST", "http://tei.test/embed")
    return error_from_response(httpx.Response(status, json={"error": message}, request=request))


def test_batch_flow_splits_a_refused_batch_and_lowers_the_limit_for_the_call() -> None:
    texts = [f"t{i}" for i in range(7)]
    plan = plan_embeddings(
        texts, url="http://tei.test/embed", wire="tei", model="m", normalize=True, encoding_format="float",
        dimensions=None, max_batch_size=32,
    )  # fmt: skip
    limit = BatchLimit(32)
    flow = batch_flow(plan, plan.batches[0], limit)
    sent: list[int] = []
    call = next(flow)
    try:
        while True:
            batch = call.json["inputs"] if call.json else []
            sent.append(len(batch))
            if len(batch) > 3:
                call = flow.throw(refusal(413, f"batch size {len(batch)} > maximum allowed batch size 3"))
            else:
                call = flow.send(Reply([[1.0, 0.0]] * len(batch), {"x-compute-tokens": str(len(batch))}))
    except StopIteration as stop:
        done: EmbeddedBatch = stop.value
    assert sent == [7, 3, 3, 1] and (limit.size, limit.learned) == (3, 3)
    assert [d["index"] for d in done.data] == list(range(7)) and done.tokens == 7


def test_batch_flow_passes_other_errors_on() -> None:
    plan = plan_embeddings(
        ["a", "b"], url="http://tei.test/embed", wire="tei", model="m", normalize=True, encoding_format="float",
        dimensions=None, max_batch_size=32,
    )  # fmt: skip
    flow = batch_flow(plan, plan.batches[0], BatchLimit(32))
    next(flow)
    with pytest.raises(APIStatusError, match="backend"):
        flow.throw(refusal(424, "backend died"))


def test_options_resolve_call_then_setting_then_default() -> None:
    assert embedding_options().concurrency == 8 and embedding_options().batch_size is None
    chosen = embedding_options(batch_size=4, default_batch_size=16, default_concurrency=2)
    assert (chosen.batch_size, chosen.concurrency) == (4, 2)
    with pytest.raises(InvalidParameterError) as info:
        embedding_options(default_batch_size=-1)
    assert info.value.param == "embedding_batch_size"


def test_merge_is_exact_only_when_every_batch_counted_tokens() -> None:
    a = EmbeddedBatch(range(0, 2), [{"index": 0}, {"index": 1}], 5, "m")
    b = EmbeddedBatch(range(2, 3), [{"index": 2}], None, "m")
    texts = ["one", "two", "three"]
    exact: dict[str, Any] = merge_batches([a], a.data, texts)
    assert exact["usage"] == {"prompt_tokens": 5, "total_tokens": 5}
    mixed = merge_batches([a, b], a.data + b.data, texts)
    assert mixed["usage"]["estimated"] is True and [d["index"] for d in mixed["data"]] == [0, 1, 2]


def test_task_usage_is_the_servers_count_and_estimates_only_when_one_is_missing() -> None:
    from easyllm.protocol.task_batches import TaskBatch, merged_usage

    counted = [TaskBatch(range(2), [], 3, None), TaskBatch(range(2, 3), [], 4, None)]

    def no_estimate() -> int:
        raise AssertionError("estimated although every batch was counted")

    assert merged_usage(counted, no_estimate) == {"prompt_tokens": 7, "total_tokens": 7}
    uncounted = [counted[0], TaskBatch(range(2, 3), [], None, None)]
    assert merged_usage(uncounted, lambda: 11) == {"prompt_tokens": 11, "total_tokens": 11, "estimated": True}
