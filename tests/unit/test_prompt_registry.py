"""The prompt-format registry, `resolve_prompt_format`, `render_prompt` and `PromptFormat`."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

import easyllm.prompt_utils as pu
from easyllm.errors import InvalidParameterError
from easyllm.prompt_utils import PromptFormat, UnknownPromptFormatError, registry
from easyllm.prompt_utils.builtin import register_builtin_formats

HI = [{"role": "user", "content": "Hi"}]

ORIGINAL_NAMES = {
    "llama2": pu.build_llama2_prompt,
    "vicuna": pu.build_vicuna_prompt,
    "chatml_falcon": pu.build_chatml_falcon_prompt,
    "chatml_starchat": pu.build_chatml_starchat_prompt,
    "wizardlm": pu.build_wizardlm_prompt,
    "stablebeluga": pu.build_stablebeluga_prompt,
    "open_assistant": pu.build_open_assistant_prompt,
    "falcon": pu.build_falcon_prompt,
    "anthropic": pu.build_anthropic_prompt,
}

EXPECTED_STOPS_AND_BOS = {
    "llama2": (("</s>",), "<s>"),
    "llama3": (("<|eot_id|>",), "<|begin_of_text|>"),
    "mistral": (("</s>",), "<s>"),
    "chatml": (("<|im_end|>",), None),
    "zephyr": (("</s>",), None),
    "gemma": (("<end_of_turn>",), "<bos>"),
    "phi3": (("<|end|>",), None),
    "vicuna": (("</s>",), None),
    "wizardlm": (("</s>",), None),
    "stablebeluga": (("</s>",), None),
    "open_assistant": (("</s>",), None),
    "falcon": (("\nUser:", "<|endoftext|>", " User:", "###"), None),
    "falcon11b": (("\nUser:", "<|endoftext|>"), None),
    "chatml_falcon": (("<|endoftext|>",), None),
    "chatml_starchat": (("<|end|>",), None),
    "anthropic": (("\n\nHuman:",), None),
}


@pytest.fixture(autouse=True)
def _private_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test registers into a copy, so the built-ins stay as they are for other tests."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    yield


def shout(messages: Sequence[Mapping[str, Any]]) -> str:
    return str(messages[-1]["content"]).upper()


@pytest.mark.parametrize(("name", "builder"), sorted(ORIGINAL_NAMES.items()))
def test_original_registry_names_map_to_their_builders(name: str, builder: Any) -> None:
    assert pu.get_prompt_builder(name).build is builder


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED_STOPS_AND_BOS.items()))
def test_builtin_stops_and_bos(name: str, expected: tuple[tuple[str, ...], str | None]) -> None:
    fmt = pu.get_prompt_builder(name)
    assert (fmt.name, (fmt.stop, fmt.bos)) == (name, expected)
    if fmt.bos is not None:
        assert fmt.build(HI).startswith(fmt.bos)


def test_builtins_register_through_the_public_function(monkeypatch: pytest.MonkeyPatch) -> None:
    from easyllm.prompt_utils import builtin

    seen: list[str] = []

    def spy(name: str, *args: Any, **kwargs: Any) -> PromptFormat:
        seen.append(name)
        return registry.register_prompt_builder(name, *args, **kwargs)

    monkeypatch.setattr(builtin, "register_prompt_builder", spy)
    register_builtin_formats()
    assert sorted(seen) == sorted(EXPECTED_STOPS_AND_BOS) == list(pu.list_prompt_formats())


def test_unknown_name_error_names_the_key_and_lists_known_ones() -> None:
    with pytest.raises(UnknownPromptFormatError) as info:
        pu.get_prompt_builder("llama-9")
    err = info.value
    assert isinstance(err, InvalidParameterError)
    assert isinstance(err, KeyError)
    assert isinstance(err, ValueError)
    assert err.key == "llama-9"
    assert err.known == pu.list_prompt_formats()
    assert str(err).startswith("Unknown prompt format 'llama-9'. Known formats: anthropic, chatml, ")
    assert "register_prompt_builder" in str(err)
    with pytest.raises(KeyError):
        pu.resolve_prompt_format("llama-9")


def test_register_a_user_builder() -> None:
    fmt = pu.register_prompt_builder("shout", shout, stop=["!"], bos="#")
    assert fmt == PromptFormat("shout", shout, ("!",), "#")
    assert pu.get_prompt_builder("shout") is fmt
    assert pu.resolve_prompt_format(shout) is fmt
    assert pu.render_prompt(HI, "shout") == "HI"
    assert "shout" in pu.list_prompt_formats()


def test_register_replaces_a_format_of_the_same_name() -> None:
    pu.register_prompt_builder("llama2", shout)
    assert pu.render_prompt(HI, "llama2") == "HI"
    assert pu.get_prompt_builder("llama2").stop == ()


def test_register_a_prompt_format_keeps_or_overrides_its_fields() -> None:
    base = PromptFormat("x", shout, ("</s>",), "<s>")
    assert pu.register_prompt_builder("kept", base) == PromptFormat("kept", shout, ("</s>",), "<s>")
    assert pu.register_prompt_builder("changed", base, stop=[], bos="<bos>") == PromptFormat(
        "changed", shout, (), "<bos>"
    )


@pytest.mark.parametrize(
    ("args", "param"),
    [
        (("", shout), "name"),
        (("ok", "not callable"), "builder"),
        (("ok", shout, "</s>"), "stop"),
        (("ok", shout, ["</s>", ""]), "stop"),
        (("ok", shout, [None]), "stop"),
    ],
)
def test_register_refuses_bad_arguments(args: tuple[Any, ...], param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        pu.register_prompt_builder(*args)
    assert info.value.param == param


def test_resolve_prompt_format() -> None:
    llama2 = pu.get_prompt_builder("llama2")
    assert pu.resolve_prompt_format(None) is None
    assert pu.resolve_prompt_format("llama2") is llama2
    assert pu.resolve_prompt_format(pu.build_llama2_prompt) is llama2  # a registered builder keeps its stops
    assert pu.resolve_prompt_format(llama2) is llama2
    unregistered = pu.resolve_prompt_format(shout)
    assert unregistered == PromptFormat("shout", shout)


def test_resolve_callable_object_without_a_name() -> None:
    class Builder:
        def __call__(self, messages: Sequence[Mapping[str, Any]]) -> str:
            return "built"

    fmt = pu.resolve_prompt_format(Builder())
    assert fmt is not None
    assert (fmt.name, fmt.build(HI), fmt.stop, fmt.bos) == ("Builder", "built", (), None)


def test_resolve_refuses_other_values() -> None:
    with pytest.raises(InvalidParameterError) as info:
        pu.resolve_prompt_format(42)  # type: ignore[arg-type]
    assert info.value.param == "prompt_format"


def test_render_prompt_accepts_names_builders_and_formats() -> None:
    expected = "<|user|>\nHi</s>\n<|assistant|>\n"
    assert pu.render_prompt(HI, "zephyr") == expected
    assert pu.render_prompt(HI, pu.build_zephyr_prompt) == expected
    assert pu.render_prompt(HI, pu.get_prompt_builder("zephyr")) == expected
    with pytest.raises(InvalidParameterError):
        pu.render_prompt(HI, None)  # type: ignore[arg-type]


def test_prompt_format_is_callable_and_frozen() -> None:
    fmt = pu.get_prompt_builder("gemma")
    assert fmt(HI) == fmt.build(HI)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fmt.stop = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("bos", "prompt", "expected"),
    [
        ("<s>", "<s>[INST] Hi [/INST]", "[INST] Hi [/INST]"),
        ("<s>", "<s><s>x", "<s>x"),  # exactly one
        ("<s>", "[INST] Hi [/INST]", "[INST] Hi [/INST]"),  # nothing to strip
        ("<s>", " <s>x", " <s>x"),  # only at the very start
        (None, "<s>x", "<s>x"),  # a format without BOS text leaves the prompt alone
        ("", "<s>x", "<s>x"),
        ("<|begin_of_text|>", "<|begin_of_text|><|begin", "<|begin"),
    ],
)
def test_strip_bos(bos: str | None, prompt: str, expected: str) -> None:
    assert PromptFormat("x", shout, bos=bos).strip_bos(prompt) == expected


def test_importing_prompt_utils_does_not_import_jinja2_or_huggingface_hub() -> None:
    code = (
        "import sys, easyllm; before = set(sys.modules); import easyllm.prompt_utils; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] in ('jinja2', 'huggingface_hub')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_public_names() -> None:
    for name in pu.__all__:
        value = getattr(pu, name)
        assert not callable(value) or value.__doc__, name
    assert {"PromptFormat", "resolve_prompt_format", "render_prompt", "from_chat_template"} <= set(pu.__all__)
