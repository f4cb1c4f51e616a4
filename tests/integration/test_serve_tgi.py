"""TGI's native routes on the demo server, checked against the protocol's shapes (plain httpx)."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

PROMPT = "The capital of France is"
CHAT_PROMPT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is 2+2? Answer with one number.<|im_end|>\n<|im_start|>assistant\n"
)


def events(response: httpx.Response) -> list[dict[str, Any]]:
    frames = [f for f in response.text.split("\n\n") if f.strip()]
    assert all(f.startswith("data:") for f in frames), frames
    return [json.loads(f.removeprefix("data:")) for f in frames]


def generate(http: httpx.Client, inputs: str = PROMPT, **parameters: Any) -> dict[str, Any]:
    response = http.post("/generate", json={"inputs": inputs, "parameters": parameters})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_generate_answers_an_object_with_details(http: httpx.Client) -> None:
    response = http.post("/generate", json={"inputs": PROMPT, "parameters": {"max_new_tokens": 4, "details": True}})
    assert response.status_code == 200
    assert response.headers["x-prompt-tokens"] == "5"
    assert response.headers["x-generated-tokens"] == "4"
    body = response.json()
    assert set(body) == {"generated_text", "details"}
    details = body["details"]
    assert details["finish_reason"] == "length"
    assert details["generated_tokens"] == 4
    assert details["seed"] is None  # greedy: `parameters` given without do_sample
    assert details["prefill"] == []
    assert "top_tokens" not in details and "best_of_sequences" not in details
    tokens = details["tokens"]
    assert [set(t) for t in tokens] == [{"id", "text", "logprob", "special"}] * 4
    assert "".join(t["text"] for t in tokens) == body["generated_text"]
    assert body["generated_text"].startswith(" Paris")
    assert all(t["logprob"] < 0 and not t["special"] for t in tokens)


def test_details_are_absent_unless_asked(http: httpx.Client) -> None:
    assert set(generate(http, max_new_tokens=2)) == {"generated_text"}


def test_prefill_and_top_tokens(http: httpx.Client) -> None:
    details = generate(http, max_new_tokens=3, decoder_input_details=True, top_n_tokens=3)["details"]
    prefill = details["prefill"]
    assert [p["text"] for p in prefill] == ["The", " capital", " of", " France", " is"]
    assert prefill[0]["logprob"] is None and all(p["logprob"] < 0 for p in prefill[1:])
    assert set(prefill[0]) == {"id", "text", "logprob"}
    assert len(details["top_tokens"]) == 3
    for token, top in zip(details["tokens"], details["top_tokens"], strict=True):
        assert len(top) == 3
        assert top[0]["id"] == token["id"]  # greedy picks the most likely
        assert [t["logprob"] for t in top] == sorted((t["logprob"] for t in top), reverse=True)


def test_root_route_returns_a_list_with_the_full_text(http: httpx.Client) -> None:
    response = http.post("/", json={"inputs": PROMPT, "parameters": {"max_new_tokens": 3}})
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["generated_text"].startswith(PROMPT + " Paris")
    assert response.headers["x-generated-tokens"] == "3"
    off = http.post("/", json={"inputs": PROMPT, "parameters": {"max_new_tokens": 3, "return_full_text": False}})
    assert off.json()[0]["generated_text"] == body[0]["generated_text"].removeprefix(PROMPT)


def test_generate_defaults_return_full_text_to_false(http: httpx.Client) -> None:
    assert not generate(http, max_new_tokens=2)["generated_text"].startswith(PROMPT)
    assert generate(http, max_new_tokens=2, return_full_text=True)["generated_text"].startswith(PROMPT)


def test_greedy_is_deterministic(http: httpx.Client) -> None:
    first = generate(http, max_new_tokens=8, details=True)
    second = generate(http, max_new_tokens=8, details=True, do_sample=False)
    assert first == second


def test_seed_makes_sampling_reproducible(http: httpx.Client) -> None:
    params = {"max_new_tokens": 12, "do_sample": True, "temperature": 1.5, "details": True}
    a = generate(http, seed=7, **params)
    b = generate(http, seed=7, **params)
    others = {generate(http, seed=seed, **params)["generated_text"] for seed in (8, 9, 10)}
    assert a == b
    assert a["details"]["seed"] == 7
    assert len(others | {a["generated_text"]}) > 1


def test_no_parameters_means_sampling_with_a_reported_seed(http: httpx.Client) -> None:
    # TGI >= 1.4: `parameters` absent -> do_sample=true; details can't be asked then, so use the stream's seed.
    response = http.post(
        "/generate_stream", json={"inputs": PROMPT, "parameters": {"details": True, "do_sample": True}}
    )
    assert isinstance(events(response)[-1]["details"]["seed"], int)
    body = http.post("/generate", json={"inputs": PROMPT}).json()
    assert isinstance(body["generated_text"], str) and body["generated_text"]


def test_stop_sequence_is_honoured_and_kept(http: httpx.Client) -> None:
    free = generate(http, max_new_tokens=10)["generated_text"]  # " Paris.\n\nThe capital of ..."
    stop = free[3:7]
    stopped = generate(http, max_new_tokens=10, stop=[stop], details=True)
    assert stopped["details"]["finish_reason"] == "stop_sequence"
    assert stop in stopped["generated_text"]
    assert free.startswith(stopped["generated_text"])
    assert stopped["details"]["generated_tokens"] < 10


def test_eos_token_ends_generation_as_a_special_token(http: httpx.Client) -> None:
    body = generate(http, CHAT_PROMPT, max_new_tokens=40, details=True)
    details = body["details"]
    assert details["finish_reason"] == "eos_token"
    last = details["tokens"][-1]
    assert last["special"] is True and last["text"] == "<|im_end|>"
    assert "<|im_end|>" not in body["generated_text"]
    assert details["generated_tokens"] == len(details["tokens"])


def test_generate_stream_events(http: httpx.Client) -> None:
    response = http.post(
        "/generate_stream", json={"inputs": PROMPT, "parameters": {"max_new_tokens": 4, "details": True}}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" not in response.text and response.text.startswith("data:{")
    stream = events(response)
    assert [e["index"] for e in stream] == [1, 2, 3, 4]
    for event in stream[:-1]:
        assert event["generated_text"] is None and event["details"] is None
        assert set(event["token"]) == {"id", "text", "logprob", "special"}
    last = stream[-1]
    assert last["generated_text"] == "".join(e["token"]["text"] for e in stream)
    assert last["details"] == {"finish_reason": "length", "generated_tokens": 4, "seed": None, "input_length": 5}
    assert last["generated_text"] == generate(http, max_new_tokens=4)["generated_text"]


def test_root_route_streams_with_the_stream_flag(http: httpx.Client) -> None:
    response = http.post("/", json={"inputs": PROMPT, "stream": True, "parameters": {"max_new_tokens": 2}})
    stream = events(response)
    assert len(stream) == 2 and stream[-1]["generated_text"].startswith(PROMPT)
    assert stream[-1]["details"] is None


def test_stream_top_tokens(http: httpx.Client) -> None:
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 2, "top_n_tokens": 2}}
    stream = events(http.post("/generate_stream", json=body))
    assert all(len(e["top_tokens"]) == 2 for e in stream)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"temperature": 0}, "`temperature` must be strictly positive"),
        ({"top_p": 1.0}, "`top_p` must be > 0.0 and < 1.0"),
        ({"top_k": 0}, "`top_k` must be strictly positive"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "`stop` supports up to 4 stop sequences. Given: 5"),
        ({"max_new_tokens": 0}, "`max_new_tokens` must be strictly positive"),
        ({"top_n_tokens": 6}, "`top_n_tokens` must be >= 0 and <= 5. Given: 6"),
        ({"repetition_penalty": 0}, "`repetition_penalty` must be strictly positive"),
        ({"best_of": 2}, "you must use sampling when `best_of` is > 1"),
        ({"max_new_tokens": 5000}, "`inputs` tokens + `max_new_tokens` must be <= 2048. Given: 5 `inputs` tokens"),
        ({"grammar": {"type": "regex", "value": "(a"}}, "the regular expression cannot be turned into a grammar"),
        ({"grammar": {"type": "regex", "value": 3}}, "grammar `value` must be a regular expression"),
        ({"grammar": {"type": "lark", "value": "start: 'a'"}}, "grammar of type 'lark' is not supported"),
        ({"grammar": {"type": "json", "value": "{not json"}}, "grammar `value` is not valid JSON"),
        ({"grammar": {"type": "json", "value": [1]}}, "grammar `value` must be a JSON schema"),
        ({"grammar": {"type": "json", "value": {"type": "strange"}}}, "the JSON schema cannot be turned"),
    ],
)
def test_validation_errors_answer_422(http: httpx.Client, parameters: dict[str, Any], message: str) -> None:
    response = http.post("/generate", json={"inputs": PROMPT, "parameters": parameters})
    assert response.status_code == 422
    body = response.json()
    assert body["error_type"] == "validation"
    assert body["error"].startswith("Input validation error: " + message)


CAPITAL = {
    "type": "object",
    "properties": {"city": {"enum": ["Paris", "Rome", "Lyon"]}, "sure": {"type": "boolean"}},
    "required": ["city", "sure"],
    "additionalProperties": False,
}


def test_a_regex_grammar_holds_the_whole_output(http: httpx.Client) -> None:
    # TGI's other grammar: the whole answer matches the expression, then generation ends (EOS)
    for pattern, check in ((r"(yes|no)", re.compile(r"(yes|no)")), (r"[0-9]{3}-[0-9]{4}", re.compile(r"\d{3}-\d{4}"))):
        parameters = {"max_new_tokens": 20, "details": True, "grammar": {"type": "regex", "value": pattern}}
        body = http.post("/generate", json={"inputs": PROMPT, "parameters": parameters}).json()
        assert check.fullmatch(body["generated_text"]), body
        assert body["details"]["finish_reason"] == "eos_token"


def test_a_json_grammar_constrains_the_output_to_the_schema(http: httpx.Client) -> None:
    # TGI's grammar parameter, as a dict and as JSON text: the tokens are masked to the schema's grammar, so even
    # this 135M model answers valid JSON of exactly that shape, and ends (EOS) once the JSON is complete
    for value in (CAPITAL, json.dumps(CAPITAL)):
        parameters = {"max_new_tokens": 40, "details": True, "grammar": {"type": "json", "value": value}}
        body = http.post("/generate", json={"inputs": PROMPT, "parameters": parameters}).json()
        answer = json.loads(body["generated_text"])
        assert set(answer) == {"city", "sure"} and answer["city"] in ("Paris", "Rome", "Lyon")
        assert isinstance(answer["sure"], bool) and body["details"]["finish_reason"] == "eos_token"
    # streamed, and any JSON when no schema is given
    stream = events(http.post("/generate_stream", json={"inputs": PROMPT, "parameters": {
        "max_new_tokens": 60, "grammar": {"type": "json", "value": CAPITAL}}}))  # fmt: skip
    assert set(json.loads(stream[-1]["generated_text"])) == {"city", "sure"}
    anything = {"max_new_tokens": 60, "details": True, "grammar": {"type": "json_object", "value": None}}
    body = http.post("/generate", json={"inputs": PROMPT, "parameters": anything}).json()
    assert body["details"]["finish_reason"] == "eos_token"
    json.loads(body["generated_text"])  # raises unless the whole output is one JSON value


def test_empty_inputs_are_refused(http: httpx.Client) -> None:
    response = http.post("/generate", json={"inputs": ""})
    assert response.status_code == 422
    assert response.json() == {"error": "Input validation error: `inputs` cannot be empty", "error_type": "validation"}


def test_stream_errors_are_events_inside_a_200(http: httpx.Client) -> None:
    response = http.post("/generate_stream", json={"inputs": PROMPT, "parameters": {"temperature": -1}})
    assert response.status_code == 200
    assert events(response) == [
        {"error": "Input validation error: `temperature` must be strictly positive", "error_type": "validation"}
    ]
    details = http.post("/generate_stream", json={"inputs": PROMPT, "parameters": {"decoder_input_details": True}})
    [event] = events(details)
    assert event["error"].endswith("`decoder_input_details` == true is not supported when streaming tokens")


def test_bad_bodies_are_rejected_like_axum(http: httpx.Client) -> None:
    not_json = http.post("/generate", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    wrong_type = http.post("/generate", json={"inputs": 3})
    assert wrong_type.status_code == 422 and wrong_type.text.startswith("Failed to deserialize")
    no_type = http.post("/generate", content=b"{}")
    assert no_type.status_code == 415


def test_best_of_returns_the_other_sequences(http: httpx.Client) -> None:
    body = generate(http, max_new_tokens=3, best_of=2, do_sample=True, details=True)
    [other] = body["details"]["best_of_sequences"]
    assert {"generated_text", "finish_reason", "generated_tokens", "seed", "tokens"} <= set(other)


def test_truncate_keeps_the_last_tokens(http: httpx.Client) -> None:
    response = http.post("/generate", json={"inputs": PROMPT, "parameters": {"max_new_tokens": 1, "truncate": 2}})
    assert response.headers["x-prompt-tokens"] == "2"


def test_info(http: httpx.Client) -> None:
    info = http.get("/info").json()
    assert info["model_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert info["router"] == "text-generation-router"
    assert info["max_client_batch_size"] == 4
    assert info["max_stop_sequences"] == 4 and info["max_best_of"] == 2
    assert info["max_input_tokens"] < info["max_total_tokens"] == 2048
    assert isinstance(info["version"], str)


def test_tokenize(http: httpx.Client) -> None:
    tokens = http.post("/tokenize", json={"inputs": "Hello world"}).json()
    assert tokens[0]["text"] == "Hello" and tokens[1] == {
        "id": tokens[1]["id"],
        "text": " world",
        "start": 5,
        "stop": 11,
    }


def test_health_answers_during_a_long_generation(http: httpx.Client, serve_url: str) -> None:
    done = threading.Event()

    def long_generation() -> None:
        with httpx.Client(base_url=serve_url, timeout=120) as other:
            other.post("/generate", json={"inputs": "Once upon a time", "parameters": {"max_new_tokens": 150}})
        done.set()

    worker = threading.Thread(target=long_generation)
    worker.start()
    time.sleep(0.5)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        assert http.get("/health").status_code == 200
        timings.append(time.perf_counter() - started)
    embed = http.post("/embed", json={"inputs": "still answering"})  # another model's worker is free
    running = not done.is_set()
    worker.join()
    assert running, "the generation finished before /health was measured; make it longer"
    assert max(timings) < 0.5
    assert embed.status_code == 200


def _generated_tokens(http: httpx.Client) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith('easyllm_generated_tokens_total{model="smollm2"}'):
            return float(line.split()[-1])
    return 0.0


def test_generation_stops_when_the_client_disconnects(http: httpx.Client, serve_url: str) -> None:
    before = _generated_tokens(http)
    body = {"inputs": "Once upon a time", "parameters": {"max_new_tokens": 1500}}
    with (
        httpx.Client(base_url=serve_url, timeout=60) as client,
        client.stream("POST", "/generate_stream", json=body) as r,
    ):
        for count, _ in enumerate(r.iter_lines()):
            if count >= 4:
                break
    time.sleep(1.0)
    settled = _generated_tokens(http)
    time.sleep(1.0)
    assert _generated_tokens(http) == settled  # nothing more is generated
    assert settled - before < 1000
    assert generate(http, max_new_tokens=2)["generated_text"]  # the worker is free again
