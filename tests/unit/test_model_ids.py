"""The model id rules (`easyllm.protocol.model_ids`) and where a checked id can go in a URL."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from easyllm.dialects import DIALECTS, check_model
from easyllm.errors import InvalidParameterError
from easyllm.protocol.model_ids import check_model_id, check_served_model_name, model_path
from easyllm.protocol.requests import EmbedCall
from easyllm.settings import Settings

COLLECTION = Settings(api_base="https://host.test/hf-inference/models")
HF_INFERENCE = DIALECTS["hf-inference"]


def generation_url(model: str) -> str:
    return HF_INFERENCE.generation_url(COLLECTION, model)  # type: ignore[attr-defined,no-any-return]


def embedding_url(model: str) -> str:
    call = EmbedCall(COLLECTION, ["x"], model, True, "float", None, 32)
    return HF_INFERENCE.embeddings(call).url


VALID = [
    "gpt2",
    "bert-base-uncased",
    "HuggingFaceTB/SmolLM2-135M-Instruct",
    "Qwen/Qwen2.5-0.5B-Instruct",
    "sentence-transformers/all-MiniLM-L6-v2",
    "meta-llama/Llama-3.1-8B-Instruct:fastest",
    "org/name:cheapest",
    "org/name:together",
    "org/name:hf-inference",
    "_org/_name_",
    "a",
    "a" * 96,
]
INVALID = {
    "": "empty",
    "../../admin": "'..' part",
    "a/../../b": "'..' part",
    "..": "'..' part",
    ".": "'.' or '..' part",
    "org/..": "'..' part",
    "./x": "'.' or '..' part",
    "/name": "empty",
    "org/": "empty",
    "org//name": "empty",
    "org/name/extra": "at most one '/'",
    "my model name": "whitespace",
    " org/name": "whitespace",
    "org/name\n": "whitespace",
    "org/na\x00me": "control characters",
    "org/na\u200eme": "control characters",
    "org/na%2Fme": "not a Hub model id",
    "org/name?x=1": "not a Hub model id",
    "org/name#frag": "not a Hub model id",
    "org\\name": "not a Hub model id",
    "-org/name": "not a Hub model id",
    "org/name-": "not a Hub model id",
    "org/na--me": "not a Hub model id",
    "org/na..me": "not a Hub model id",
    "org/name.git": "not a Hub model id",
    "org/name:": "not a Hub model id",
    "org/name:a:b": "not a Hub model id",
    "org/name:a/b": "not a Hub model id",
    "grüße/modell": "not a Hub model id",
    "a" * 97: "not a Hub model id",
    "user@host/name": "not a Hub model id",
}


@pytest.mark.parametrize("model", VALID)
def test_hub_ids_are_accepted_and_kept(model: str) -> None:
    assert check_model_id(model) == model
    assert model_path(model) == model


@pytest.mark.parametrize(("model", "reason"), sorted(INVALID.items()))
def test_what_a_hub_id_cannot_be_is_refused_with_the_reason(model: str, reason: str) -> None:
    with pytest.raises(InvalidParameterError, match=reason) as info:
        check_model_id(model)
    assert info.value.param == "model"
    assert str(info.value).startswith("`model` ")


@pytest.mark.parametrize("model", [None, 3, b"org/name", ["org/name"]])
def test_a_model_id_must_be_a_string(model: object) -> None:
    with pytest.raises(InvalidParameterError, match="must be a string"):
        check_model_id(model)


@pytest.mark.parametrize("model", ["/models/Llama 3 (local)", "gpt-4o", "org/name:fastest", "Grüße", " padded "])
def test_served_model_names_are_free_form(model: str) -> None:
    assert check_served_model_name(model) == model


def test_served_model_name_may_be_none() -> None:
    assert check_served_model_name(None) is None


@pytest.mark.parametrize("model", ["", " ", "\t\n", "a\nb", "a\rb", "a\x00b", "a\x1bb", "a\u2028b", "a\ud800b", 7])
def test_what_cannot_be_a_served_model_name_is_refused(model: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        check_served_model_name(model)
    assert info.value.param == "model"


# ---------------------------------------------------------------- which rule holds where


@pytest.mark.parametrize(
    ("api_base", "engine", "hub"),
    [
        ("https://router.huggingface.co/v1", "auto", True),
        ("https://router.huggingface.co/hf-inference/models", "auto", True),
        ("https://host.test/models", "auto", True),
        ("http://127.0.0.1:8080", "auto", True),  # TGI, TEI, an Inference Endpoint
        ("http://127.0.0.1:8080", "tei", True),
        ("http://127.0.0.1:8000/v1", "auto", False),  # any OpenAI-compatible server
        ("http://127.0.0.1:8000/v1", "vllm", False),
        ("http://127.0.0.1:8080/v1", "llama.cpp", False),
        ("http://127.0.0.1:8080/v1", "tgi", True),
    ],
)
def test_the_rule_follows_the_server_kind_known_before_sending(api_base: str, engine: str, hub: bool) -> None:
    settings = Settings(api_base=api_base)
    assert check_model(settings, engine, None) is None
    assert check_model(settings, engine, "org/name:fastest") == "org/name:fastest"
    if hub:
        with pytest.raises(InvalidParameterError, match="whitespace"):
            check_model(settings, engine, "my model name")
    else:
        assert check_model(settings, engine, "my model name") == "my model name"
    with pytest.raises(InvalidParameterError, match="empty"):
        check_model(settings, engine, "")


# ---------------------------------------------------------------- properties: nothing leaves the collection path

PART = st.from_regex(r"[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,20}[A-Za-z0-9_])?", fullmatch=True)
SUFFIX = st.one_of(st.just(""), st.from_regex(r":[A-Za-z0-9_.\-]{1,12}", fullmatch=True))
HUB_IDS = st.builds(
    lambda org, name, suffix: f"{org + '/' if org else ''}{name}{suffix}", st.one_of(st.none(), PART), PART, SUFFIX
).filter(lambda model: "--" not in model.split(":")[0] and ".." not in model.split(":")[0])


def _under_collection(url: str, collection: str, suffix: str = "") -> bool:
    """Whether `url`, resolved as a server would (percent-decoded, dot segments removed), stays below `collection`."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    resolved = posixpath.normpath(path)
    if suffix:
        if not resolved.endswith(suffix):
            return False
        path = resolved = resolved[: -len(suffix)]
    return (
        parts.netloc == "host.test"
        and not parts.query
        and not parts.fragment
        and resolved == path
        and resolved.startswith(collection + "/")
        and resolved.count("/") - collection.count("/") in (1, 2)
    )


@settings(max_examples=300, deadline=None)
@given(model=HUB_IDS)
def test_a_valid_id_stays_under_the_collection_path(model: str) -> None:
    assert check_model_id(model) == model
    assert _under_collection(generation_url(model), "/hf-inference/models")
    assert _under_collection(embedding_url(model), "/hf-inference/models", suffix="/pipeline/feature-extraction")


@settings(max_examples=500, deadline=None)
@given(model=st.one_of(st.text(max_size=30), st.text(alphabet="./-_:%?#@ \\aZ9\n", max_size=12)))
def test_any_text_is_refused_or_stays_under_the_collection_path(model: str) -> None:
    try:
        url = generation_url(model)
    except InvalidParameterError as err:
        assert err.param == "model"
        return
    assert _under_collection(url, "/hf-inference/models")
