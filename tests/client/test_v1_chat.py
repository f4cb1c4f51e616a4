"""`client.chat.completions` against OpenAI-compatible servers, through both shells."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk

from easyllm import errors
from easyllm.schema.types import ChatCompletion, ChatCompletionChunk
from tests.client import v1_helpers
from tests.client.fake_tgi import reply
from tests.client.v1_helpers import (
    MESSAGES,
    chat_body,
    chunk,
    dump,
    sse_done,
    usage_chunk,
)

# fixtures shared by the v1 tests
forget_routes = v1_helpers.forget_routes
make_v1 = v1_helpers.make_v1
v1_shell = v1_helpers.v1_shell


def test_v1_base_goes_to_chat_completions_and_normalises_the_answer(make_v1: Any) -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    run = make_v1(reply(json_body=chat_body("Hello!", finish="stop_sequence", usage=usage)))
    r = run("chat.completions", messages=MESSAGES, model="org/m", max_tokens=8, temperature=0)
    assert isinstance(r, ChatCompletion)
    assert r.choices[0].message.content == "Hello!" and r.choices[0].finish_reason == "stop"
    assert r.id.startswith("chatcmpl-") and r.model == "served-model" and r.usage is not None
    assert r.usage.total_tokens == 11
    OpenAIChatCompletion.model_validate(dump(r))
    assert run.paths() == ["/v1/chat/completions"]
    body = run.bodies()[0]
    assert body["messages"] == MESSAGES and body["model"] == "org/m"
    assert body["max_tokens"] == 8 and body["temperature"] == 0 and "stream" not in body


def test_server_id_is_kept_when_it_gives_one(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body(id="chatcmpl-server")))
    assert run("chat.completions", messages=MESSAGES).id == "chatcmpl-server"


def test_missing_usage_is_estimated_and_flagged(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body("Some answer")))
    r = run("chat.completions", messages=MESSAGES)
    assert r.usage.model_dump()["estimated"] is True and r.usage.completion_tokens > 0


def test_stream_yields_role_content_finish_and_usage(make_v1: Any) -> None:
    events = [chunk({"content": "Hel"}), chunk({"content": "lo"}), chunk({"content": ""}, "stop_sequence")]
    run = make_v1(sse_done([*events, usage_chunk(4, 2)]))
    chunks = run("chat.completions", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].choices[0].delta.content == ""
    assert [c.choices[0].delta.role for c in chunks[1:3]] == [None, None]
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == "Hello"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 6
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(dump(c))
    assert run.bodies()[0]["stream_options"] == {"include_usage": True}


def test_stream_asks_for_usage_but_shows_it_only_when_asked(make_v1: Any) -> None:
    run = make_v1(sse_done([chunk({"content": "Hi"}, "stop"), usage_chunk()]))
    chunks = run("chat.completions", messages=MESSAGES, stream=True)
    assert run.bodies()[0]["stream_options"] == {"include_usage": True}
    assert chunks[-1].choices[0].finish_reason == "stop" and all(c.usage is None for c in chunks)


def test_stream_without_server_usage_counts_deltas_and_flags_the_estimate(make_v1: Any) -> None:
    run = make_v1(sse_done([chunk({"content": "a"}), chunk({"content": "b"}), chunk({}, "length")]))
    chunks = run("chat.completions", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    usage = chunks[-1].usage.model_dump()
    assert usage["completion_tokens"] == 2 and usage["estimated"] is True
    assert chunks[-2].choices[0].finish_reason == "length"


def test_error_event_inside_a_200_stream_raises_with_partial_text(make_v1: Any) -> None:
    error = {"error": {"message": "Input validation error: too long", "http_status_code": 422}}
    run = make_v1(sse_done([chunk({"content": "par"}), chunk({"content": "tial"}), error]))
    with pytest.raises(errors.UnprocessableEntityError) as info:
        run("chat.completions", messages=MESSAGES, stream=True)
    assert "too long" in str(info.value) and info.value.partial_text == "partial"


def test_stream_cut_before_a_finish_reason_raises(make_v1: Any) -> None:
    body = b'data: {"id":"","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'
    run = make_v1(reply(200, content=body, headers={"content-type": "text/event-stream"}))
    with pytest.raises(errors.APIError, match="ended before"):
        run("chat.completions", messages=MESSAGES, stream=True)


def test_validation_error_answered_with_500_becomes_422(make_v1: Any) -> None:
    body = {"error": {"message": "Invalid value for `top_logprobs`: must be <= 20", "type": "internal_server_error"}}
    run = make_v1(reply(500, json_body=body))
    with pytest.raises(errors.UnprocessableEntityError) as info:
        run("chat.completions", messages=MESSAGES)
    assert info.value.status_code == 422 and "top_logprobs" in str(info.value)
    assert len(run.server.requests) == 1


def test_a_real_500_stays_a_server_error(make_v1: Any) -> None:
    run = make_v1(reply(500, json_body={"error": {"message": "CUDA out of memory"}}))
    with pytest.raises(errors.InternalServerError):
        run("chat.completions", messages=MESSAGES)


def test_stop_strings_are_trimmed_client_side_too(make_v1: Any) -> None:
    run = make_v1(sse_done([chunk({"content": "Sure.\nUs"}), chunk({"content": "er: more"}), chunk({}, "stop")]))
    chunks = run("chat.completions", messages=MESSAGES, stream=True, stop=["\nUser:"])
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Sure."
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_n_samples_are_separate_requests_with_distinct_seeds(make_v1: Any) -> None:
    run = make_v1(
        reply(json_body=chat_body("a", usage={"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}))
    )
    r = run("chat.completions", messages=MESSAGES, n=3, temperature=0.7)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len({b["seed"] for b in run.bodies()}) == 3 and all("n" not in b for b in run.bodies())
    assert r.usage.completion_tokens == 3 and r.usage.prompt_tokens == 3


def test_logprobs_pass_through_in_openai_shape(make_v1: Any) -> None:
    content = [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": [{"token": "Hi", "logprob": -0.1}]}]
    run = make_v1(reply(json_body=chat_body("Hi", logprobs={"content": content})))
    r = run("chat.completions", messages=MESSAGES, logprobs=True, top_logprobs=1)
    assert r.choices[0].logprobs.content[0].token == "Hi"
    assert run.bodies()[0]["logprobs"] is True and run.bodies()[0]["top_logprobs"] == 1
    OpenAIChatCompletion.model_validate(dump(r))


def test_openai_only_options_pass_through(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body()))
    run("chat.completions", messages=MESSAGES, logit_bias={"50256": -100.0}, user="u1", top_p=1.0, presence_penalty=1)
    body = run.bodies()[0]
    assert body["logit_bias"] == {"50256": -100.0} and body["user"] == "u1" and body["top_p"] == 1.0
    assert body["presence_penalty"] == 1


def test_refused_before_sending(make_v1: Any) -> None:
    run = make_v1(reply(json_body=chat_body()))
    with pytest.raises(errors.InvalidParameterError, match="temperature"):
        run("chat.completions", messages=MESSAGES, temperature=3)
    with pytest.raises(errors.InvalidParameterError, match="messages"):
        run("chat.completions", messages="hi")
    assert run.server.requests == []


def test_stream_stop_completed_by_the_last_piece_finishes_with_stop(make_v1: Any) -> None:
    events = [
        chunk({"role": "assistant", "content": "x"}),
        chunk({"content": "a"}),
        chunk({"content": "b"}),
        chunk({}, "length"),
    ]
    run = make_v1(sse_done(events))
    chunks = run("chat.completions", messages=MESSAGES, stream=True, stop=["abc", "b"])
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "xa"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
