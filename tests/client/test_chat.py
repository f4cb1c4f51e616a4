"""Chat completions through both shells against TGI-shaped answers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk

from easyllm import errors
from easyllm.clients import huggingface
from tests.client.fake_tgi import Body, generate_body, reply, sse, stream_reply, token_events

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def simple_builder(messages: Any) -> str:
    return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"


def chat(run: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("messages", MESSAGES)
    kwargs.setdefault("prompt_builder", simple_builder)
    return run(huggingface.ChatCompletion, **kwargs)


def test_chat_returns_openai_shape_with_attribute_access(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body("Hello there!", tokens=4), headers={"x-prompt-tokens": "9"}))
    r = chat(run, model="org/model", max_tokens=16)
    assert r.choices[0].message.content == r["choices"][0]["message"]["content"] == "Hello there!"
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-") and r.model == "org/model"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage == {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
    OpenAIChatCompletion.model_validate(json.loads(json.dumps(r)))
    body = run.server.bodies()[0]
    assert body["inputs"] == "<system>Be brief.<user>Hi<assistant>"
    assert body["stream"] is False
    assert body["parameters"]["details"] is True and body["parameters"]["return_full_text"] is False
    assert body["parameters"]["max_new_tokens"] == 16


@pytest.mark.parametrize(("tgi", "openai"), [("eos_token", "stop"), ("stop_sequence", "stop"), ("length", "length")])
def test_finish_reason_uses_openai_words(make_runner: Any, tgi: str, openai: str) -> None:
    run = make_runner(reply(json_body=generate_body("x", finish=tgi)))
    assert chat(run).choices[0].finish_reason == openai


def test_object_answer_of_generate_route_is_read_too(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body("plain", root=False)))
    assert chat(run).choices[0].message.content == "plain"


def test_stop_strings_are_trimmed_and_sent(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body("Sure.\nUser: more", finish="stop_sequence")))
    r = chat(run, stop="\nUser:")
    assert r.choices[0].message.content == "Sure."
    assert r.choices[0].finish_reason == "stop"
    assert run.server.bodies()[0]["parameters"]["stop"] == ["\nUser:"]


def test_more_stops_than_the_server_allows_are_enforced_client_side(make_runner: Any) -> None:
    stops = ["<a>", "<b>", "<c>", "<d>", "<e>"]
    run = make_runner(reply(json_body=generate_body("one<e>two", finish="length")))
    r = chat(run, stop=stops)
    assert r.choices[0].message.content == "one" and r.choices[0].finish_reason == "stop"
    assert run.server.bodies()[0]["parameters"]["stop"] == stops[:4]


def test_module_stop_sequences_apply(make_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huggingface, "stop_sequences", ["###"])
    run = make_runner(reply(json_body=generate_body("a###b")))
    assert chat(run).choices[0].message.content == "a"


def test_usage_without_server_counts_is_flagged_as_estimate(make_runner: Any) -> None:
    body = [{"generated_text": "no details here"}]
    run = make_runner(reply(json_body=body))
    usage = chat(run).usage
    assert usage["estimated"] is True
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_prompt_tokens_from_prefill_when_no_header(make_runner: Any) -> None:
    body = generate_body("ok", tokens=1)
    body[0]["details"]["prefill"] = [{"id": i, "text": "t", "logprob": None} for i in range(6)]
    run = make_runner(reply(json_body=body))
    usage = chat(run).usage
    assert usage["prompt_tokens"] == 6 and "estimated" not in usage


def test_n_samples_are_distinct_requests_with_distinct_seeds(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body("sample")))
    r = chat(run, n=3, seed=7, temperature=0.7)
    assert [c.index for c in r.choices] == [0, 1, 2]
    seeds = sorted(b["parameters"]["seed"] for b in run.server.bodies())
    assert seeds == [7, 8, 9]
    assert r.usage["completion_tokens"] == 15


def test_unseeded_samples_still_get_distinct_seeds(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body("sample")))
    chat(run, n=4)
    seeds = {b["parameters"]["seed"] for b in run.server.bodies()}
    assert len(seeds) == 4


def test_logprobs_in_openai_shape(make_runner: Any) -> None:
    run = make_runner(reply(json_body=generate_body("Hi you", token_list=["Hi", " you"])))
    r = chat(run, logprobs=True, top_logprobs=2)
    content = r.choices[0].logprobs.content
    assert [c.token for c in content] == ["Hi", " you"]
    assert content[0].logprob == -0.25 and len(content[0].top_logprobs) == 2
    assert run.server.bodies()[0]["parameters"]["top_n_tokens"] == 2
    OpenAIChatCompletion.model_validate(json.loads(json.dumps(r)))


# ---------------------------------------------------------------- streams


def test_stream_role_then_deltas_then_finish(make_runner: Any) -> None:
    run = make_runner(stream_reply(token_events(["Hel", "lo", "!"])))
    chunks = chat(run, stream=True)
    assert chunks[0].choices[0].delta == {"role": "assistant", "content": ""}
    text = "".join(c.choices[0].delta.get("content", "") for c in chunks if c.choices)
    assert text == "Hello!"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].choices[0].delta == {}
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    for c in chunks:
        OpenAIChatCompletionChunk.model_validate(json.loads(json.dumps(c)))
    assert run.server.bodies()[0]["stream"] is True


def test_stream_accepts_data_with_a_space_and_ignores_comments(make_runner: Any) -> None:
    events: list[Any] = token_events(["a", "b"])
    run = make_runner(stream_reply(events, space=True))
    chunks = chat(run, stream=True)
    assert "".join(c.choices[0].delta.get("content", "") for c in chunks) == "ab"


def test_stream_never_leaks_a_stop_split_across_tokens(make_runner: Any) -> None:
    events = token_events(["Answer", ".\n", "Us", "er:", " next"], finish="length", eos=None)
    run = make_runner(stream_reply(events))
    chunks = chat(run, stream=True, stop=["\nUser:"])
    text = "".join(c.choices[0].delta.get("content", "") for c in chunks)
    assert text == "Answer."
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_length_finish(make_runner: Any) -> None:
    run = make_runner(stream_reply(token_events(["a", "b"], finish="length", eos=None)))
    assert chat(run, stream=True)[-1].choices[0].finish_reason == "length"


def test_stream_include_usage_adds_a_usage_chunk(make_runner: Any) -> None:
    run = make_runner(stream_reply(token_events(["a", "b"], input_length=11)))
    chunks = chat(run, stream=True, stream_options={"include_usage": True})
    assert chunks[-1].choices == [] and chunks[-1].usage == {
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "total_tokens": 14,
    }
    OpenAIChatCompletionChunk.model_validate(json.loads(json.dumps(chunks[-1])))


@pytest.mark.parametrize(
    ("error_type", "cls"),
    [
        ("validation", errors.UnprocessableEntityError),
        ("overloaded", errors.RateLimitError),
        ("generation", errors.APIStatusError),
        ("incomplete_generation", errors.InternalServerError),
    ],
)
def test_error_event_inside_a_200_stream_raises(make_runner: Any, error_type: str, cls: type[Exception]) -> None:
    events: list[Any] = token_events(["par", "tial"])[:2]
    events.append({"error": "Request failed during generation: boom", "error_type": error_type})
    run = make_runner(stream_reply(events))
    with pytest.raises(cls) as info:
        chat(run, stream=True)
    assert "boom" in str(info.value)
    assert info.value.partial_text == "partial"  # type: ignore[attr-defined]


def test_messages_api_error_event_shape_raises(make_runner: Any) -> None:
    events = [{"error": {"message": "Template error: bad", "http_status_code": 422}}, "[DONE]"]
    run = make_runner(stream_reply(events))
    with pytest.raises(errors.UnprocessableEntityError, match="Template error"):
        chat(run, stream=True)


def test_stream_cut_before_the_final_event_raises(make_runner: Any) -> None:
    run = make_runner(stream_reply(token_events(["a", "b", "c"])[:2]))
    with pytest.raises(errors.APIError, match="ended before") as info:
        chat(run, stream=True)
    assert info.value.partial_text == "ab"


class TrackedBody(Body):
    """A lazily read body that records whether httpx closed it (i.e. the connection was released)."""

    closed = False

    def close(self) -> None:
        self.closed = True


def lazy_stream(body: TrackedBody) -> httpx.MockTransport:
    return httpx.MockTransport(
        lambda request: httpx.Response(200, stream=body, headers={"content-type": "text/event-stream"})
    )


def test_breaking_out_of_a_sync_stream_releases_the_connection() -> None:
    body = TrackedBody(sse(token_events(["x"] * 50)))
    huggingface.http_client = httpx.Client(transport=lazy_stream(body))
    for _ in huggingface.ChatCompletion.create(
        messages=MESSAGES, prompt_builder=simple_builder, api_base="http://tgi.test", stream=True
    ):
        break
    assert body.closed  # the loop let go of the stream: its response is closed at once


def test_closing_a_held_stream_releases_the_connection() -> None:
    body = TrackedBody(sse(token_events(["x"] * 50)))
    huggingface.http_client = httpx.Client(transport=lazy_stream(body))
    stream = huggingface.ChatCompletion.create(
        messages=MESSAGES, prompt_builder=simple_builder, api_base="http://tgi.test", stream=True
    )
    next(stream)
    assert not body.closed
    stream.close()
    assert body.closed and stream.response.is_closed


def test_a_stop_completed_by_the_last_piece_still_finishes_with_stop(make_runner: Any) -> None:
    # "ab" could still grow into "abc", so it is held; the stream then ends: "b" alone was the stop.
    run = make_runner(stream_reply(token_events(["x", "a", "b"], finish="length", eos=None)))
    chunks = chat(run, stream=True, stop=["abc", "b"])
    assert "".join(c.choices[0].delta.get("content", "") for c in chunks) == "xa"
    assert chunks[-1].choices[0].finish_reason == "stop"
