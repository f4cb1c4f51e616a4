"""A `model` that cannot name a model is refused before anything is sent, on every route and through both shells.

Also: an empty stop string is refused, and the facade's `Embedding.create` takes `text` for `input`.
"""

from __future__ import annotations

from typing import Any

import pytest

from easyllm import errors
from easyllm.clients import huggingface
from tests.client import v1_helpers
from tests.client.fake_tgi import generate_body, reply
from tests.client.v1_helpers import MESSAGES, TGI, chat_body

forget_routes = v1_helpers.forget_routes
make_v1 = v1_helpers.make_v1
v1_shell = v1_helpers.v1_shell

COLLECTION = "https://host.test/models"
ESCAPES = ["../../admin", "a/../../b", "my model name", "org/name/extra", "./x", "org/..", "", "a\nb", "a?b", "a#b"]
NOT_NAMES = ["", "   ", "a\nb", "tab\tin\x00side", "x\x7f", "line\u2028break"]
EMBEDDING = {"data": [{"object": "embedding", "embedding": [0.1, 0.2], "index": 0}], "object": "list"}


# ---------------------------------------------------------------- the facade (openai<1 style), both shells


@pytest.mark.parametrize("model", ESCAPES)
@pytest.mark.parametrize("api_base", [COLLECTION, TGI])
def test_facade_chat_refuses_a_model_id_that_could_leave_the_path(make_runner: Any, api_base: str, model: str) -> None:
    run = make_runner(reply(json_body=generate_body("x")))
    with pytest.raises(errors.InvalidParameterError) as info:
        run(huggingface.ChatCompletion, api_base=api_base, model=model, messages=MESSAGES, prompt_builder="chatml")
    assert info.value.param == "model"
    assert run.server.requests == []


@pytest.mark.parametrize("model", ["../../admin", "my model name"])
def test_facade_completion_and_embedding_refuse_bad_model_ids(make_runner: Any, model: str) -> None:
    run = make_runner(reply(json_body=generate_body("x")))
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run(huggingface.Completion, api_base=COLLECTION, model=model, prompt="Hi")
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run(huggingface.Embedding, api_base=COLLECTION, model=model, input=["Hi"])
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run(huggingface.Embedding, api_base=TGI, model=model, input=["Hi"])  # before the /info request
    assert run.server.requests == []


def test_facade_refuses_bad_model_on_the_messages_api_route(make_runner: Any) -> None:
    run = make_runner(reply(json_body=chat_body()))
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run(huggingface.ChatCompletion, api_base=COLLECTION, model="a/../../b", messages=MESSAGES)
    assert run.server.requests == []


@pytest.mark.parametrize("model", ["org/name", "name", "org/name:fastest", "Qwen/Qwen2.5-0.5B-Instruct", None])
def test_facade_sends_a_valid_model_id_under_the_collection(make_runner: Any, model: str | None) -> None:
    run = make_runner(reply(json_body=generate_body("x")))
    kwargs = {"model": model} if model else {}
    base = COLLECTION if model else TGI
    run(huggingface.ChatCompletion, api_base=base, messages=MESSAGES, prompt_builder="chatml", **kwargs)
    [request] = run.server.requests
    assert (request.url.host, request.url.path) == (("host.test", f"/models/{model}") if model else ("tgi.test", "/"))


@pytest.mark.parametrize("model", NOT_NAMES)
def test_facade_on_an_openai_server_refuses_only_what_cannot_be_a_name(make_runner: Any, model: str) -> None:
    run = make_runner(reply(json_body=chat_body()))
    with pytest.raises(errors.InvalidParameterError) as info:
        run(huggingface.ChatCompletion, api_base="http://oai.test/v1", model=model, messages=MESSAGES)
    assert info.value.param == "model"
    assert run.server.requests == []


def test_facade_on_an_openai_server_sends_a_free_form_served_name(make_runner: Any) -> None:
    run = make_runner(reply(json_body=chat_body()))
    name = "/models/Llama 3 (local)"
    run(huggingface.ChatCompletion, api_base="http://oai.test/v1", model=name, messages=MESSAGES)
    assert run.server.bodies()[0]["model"] == name


# ---------------------------------------------------------------- the clients (openai>=1 style), both shells


@pytest.mark.parametrize("model", ["../../admin", "a/../../b", "my model name"])
def test_clients_refuse_bad_model_ids_on_a_collection(make_v1: Any, model: str) -> None:
    run = make_v1(reply(json_body=generate_body("x")))
    client = {"base_url": COLLECTION, "prompt_builder": "chatml"}
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run("chat.completions", client=client, model=model, messages=MESSAGES)
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run("completions", client=client, model=model, prompt="Hi")
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run("embeddings", client=client, model=model, input=["Hi"])
    assert run.server.requests == []


@pytest.mark.parametrize("model", NOT_NAMES)
def test_clients_on_an_openai_server_refuse_what_cannot_be_a_name(make_v1: Any, model: str) -> None:
    run = make_v1(reply(json_body=EMBEDDING))
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run("chat.completions", model=model, messages=MESSAGES)
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run("completions", model=model, prompt="Hi")
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        run("embeddings", model=model, input=["Hi"])
    assert run.server.requests == []


def test_clients_on_an_openai_server_send_router_and_local_names(make_v1: Any) -> None:
    run = make_v1(reply(json_body=EMBEDDING))
    run("embeddings", model="meta-llama/Llama-3.1-8B-Instruct:cheapest", input=["Hi"])
    run("embeddings", model="/srv/models/my model", input=["Hi"])
    assert [body["model"] for body in run.bodies()] == [
        "meta-llama/Llama-3.1-8B-Instruct:cheapest",
        "/srv/models/my model",
    ]


# ---------------------------------------------------------------- empty stop strings


@pytest.mark.parametrize("stop", ["", ["ok", ""]])
@pytest.mark.parametrize("api_base", [TGI, "http://oai.test/v1"])
def test_facade_refuses_an_empty_stop_string(make_runner: Any, api_base: str, stop: Any) -> None:
    run = make_runner(reply(json_body=chat_body()))
    with pytest.raises(errors.InvalidParameterError, match="empty string") as info:
        run(huggingface.ChatCompletion, api_base=api_base, messages=MESSAGES, prompt_builder="chatml", stop=stop)
    assert info.value.param == "stop"
    with pytest.raises(errors.InvalidParameterError, match="empty string"):
        run(huggingface.Completion, api_base=api_base, prompt="Hi", stop=stop)
    assert run.server.requests == []


def test_facade_refuses_an_empty_string_in_stop_sequences(make_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huggingface, "stop_sequences", ["###", ""])
    run = make_runner(reply(json_body=generate_body("x")))
    with pytest.raises(errors.InvalidParameterError, match="stop_sequences"):
        run(huggingface.Completion, prompt="Hi")
    assert run.server.requests == []


@pytest.mark.parametrize("stop", ["", ["ok", ""]])
def test_clients_refuse_an_empty_stop_string(make_v1: Any, stop: Any) -> None:
    run = make_v1(reply(json_body=chat_body()))
    with pytest.raises(errors.InvalidParameterError, match="empty string"):
        run("chat.completions", messages=MESSAGES, stop=stop)
    with pytest.raises(errors.InvalidParameterError, match="empty string"):
        run("completions", client={"base_url": TGI}, prompt="Hi", stop=stop)
    with pytest.raises(errors.InvalidParameterError, match="empty string"):
        run("chat.completions", client={"stop_sequences": [""]}, messages=MESSAGES)
    assert run.server.requests == []


# ---------------------------------------------------------------- `text`, the original docs' name of `input`


def test_facade_embedding_takes_text_as_input(make_runner: Any) -> None:
    run = make_runner(reply(json_body=EMBEDDING))
    answer = run(huggingface.Embedding, api_base="http://oai.test/v1", model="m", text="Hello")
    assert run.server.bodies()[0]["input"] == ["Hello"]
    assert len(answer["data"]) == 1 and len(answer["data"][0]["embedding"]) == 2


def test_facade_embedding_refuses_text_and_input_together(make_runner: Any) -> None:
    run = make_runner(reply(json_body=EMBEDDING))
    with pytest.raises(errors.InvalidParameterError, match="not both") as info:
        run(huggingface.Embedding, api_base="http://oai.test/v1", text="a", input="b")
    assert info.value.param == "text"
    assert run.server.requests == []
