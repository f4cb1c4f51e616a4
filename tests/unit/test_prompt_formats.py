"""Golden prompts for every built-in builder, and the conversations each one refuses."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import easyllm.prompt_utils as pu
from easyllm.errors import InvalidParameterError

S = "You are a helpful assistant."
U1 = "Hello!"
A1 = "Hi! How can I help?"
U2 = "What is 2+2?"
UNI = "  Grüße 👋\nzweite Zeile\t "  # unicode, an inner newline, whitespace at both ends

CONVERSATIONS: dict[str, list[dict[str, Any]]] = {
    "sys_user": [{"role": "system", "content": S}, {"role": "user", "content": U1}],
    "user_only": [{"role": "user", "content": U1}],
    "multi": [
        {"role": "system", "content": S},
        {"role": "user", "content": U1},
        {"role": "assistant", "content": A1},
        {"role": "user", "content": U2},
    ],
    "multi_no_sys": [
        {"role": "user", "content": U1},
        {"role": "assistant", "content": A1},
        {"role": "user", "content": U2},
    ],
    "unicode": [{"role": "user", "content": UNI}],
    "empty_system": [{"role": "system", "content": ""}, {"role": "user", "content": U1}],
}

GOLDEN: dict[str, dict[str, str]] = {
    "llama2": {
        "sys_user": "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello! [/INST]",
        "user_only": "<s>[INST] Hello! [/INST]",
        "multi": "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHello! [/INST]"
        " Hi! How can I help? </s><s>[INST] What is 2+2? [/INST]",
        "unicode": "<s>[INST] Grüße 👋\nzweite Zeile [/INST]",
        "empty_system": "<s>[INST] <<SYS>>\n\n<</SYS>>\n\nHello! [/INST]",
    },
    "llama3": {
        "sys_user": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant."
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "user_only": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "multi": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant."
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHi! How can I help?<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "unicode": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nGrüße 👋\nzweite Zeile<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "empty_system": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    },
    "mistral": {
        "user_only": "<s>[INST] Hello! [/INST]",
        "multi_no_sys": "<s>[INST] Hello! [/INST]Hi! How can I help?</s>[INST] What is 2+2? [/INST]",
        "unicode": "<s>[INST]   Grüße 👋\nzweite Zeile\t  [/INST]",
    },
    "chatml": {
        "sys_user": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
        "user_only": "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
        "multi": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n"
        "<|im_start|>assistant\nHi! How can I help?<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n",
        "unicode": "<|im_start|>user\n  Grüße 👋\nzweite Zeile\t <|im_end|>\n<|im_start|>assistant\n",
        "empty_system": "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    },
    "zephyr": {
        "sys_user": "<|system|>\nYou are a helpful assistant.</s>\n<|user|>\nHello!</s>\n<|assistant|>\n",
        "user_only": "<|user|>\nHello!</s>\n<|assistant|>\n",
        "multi": "<|system|>\nYou are a helpful assistant.</s>\n<|user|>\nHello!</s>\n"
        "<|assistant|>\nHi! How can I help?</s>\n<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n",
        "unicode": "<|user|>\n  Grüße 👋\nzweite Zeile\t </s>\n<|assistant|>\n",
        "empty_system": "<|system|>\n</s>\n<|user|>\nHello!</s>\n<|assistant|>\n",
    },
    "gemma": {
        "user_only": "<bos><start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\n",
        "multi_no_sys": "<bos><start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\nHi! How can I help?"
        "<end_of_turn>\n<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
        "unicode": "<bos><start_of_turn>user\nGrüße 👋\nzweite Zeile<end_of_turn>\n<start_of_turn>model\n",
    },
    "phi3": {
        "sys_user": "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello!<|end|>\n<|assistant|>\n",
        "user_only": "<|user|>\nHello!<|end|>\n<|assistant|>\n",
        "multi": "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello!<|end|>\n"
        "<|assistant|>\nHi! How can I help?<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n",
        "unicode": "<|user|>\n  Grüße 👋\nzweite Zeile\t <|end|>\n<|assistant|>\n",
        "empty_system": "<|system|>\n<|end|>\n<|user|>\nHello!<|end|>\n<|assistant|>\n",
    },
    "vicuna": {
        "sys_user": "You are a helpful assistant.\n\nUSER: Hello!\nASSISTANT: ",
        "user_only": "USER: Hello!\nASSISTANT: ",
        "multi": "You are a helpful assistant.\n\nUSER: Hello!\nASSISTANT: Hi! How can I help?</s>\n"
        "USER: What is 2+2?\nASSISTANT: ",
        "unicode": "USER: Grüße 👋\nzweite Zeile\nASSISTANT: ",
        "empty_system": "\n\nUSER: Hello!\nASSISTANT: ",
    },
    "wizardlm": {
        "sys_user": "You are a helpful assistant. USER: Hello! ASSISTANT: ",
        "user_only": "USER: Hello! ASSISTANT: ",
        "multi": "You are a helpful assistant. USER: Hello! ASSISTANT: Hi! How can I help? "
        "USER: What is 2+2? ASSISTANT: ",
        "unicode": "USER: Grüße 👋\nzweite Zeile ASSISTANT: ",
        "empty_system": "USER: Hello! ASSISTANT: ",
    },
    "stablebeluga": {
        "sys_user": "### System:\nYou are a helpful assistant.\n\n### User:\nHello!\n\n### Assistant:",
        "user_only": "### User:\nHello!\n\n### Assistant:",
        "multi": "### System:\nYou are a helpful assistant.\n\n### User:\nHello!\n\n"
        "### Assistant:\nHi! How can I help?\n\n### User:\nWhat is 2+2?\n\n### Assistant:",
        "unicode": "### User:\nGrüße 👋\nzweite Zeile\n\n### Assistant:",
        "empty_system": "### System:\n\n\n### User:\nHello!\n\n### Assistant:",
    },
    "open_assistant": {
        "sys_user": "<|system|>You are a helpful assistant.</s><|prompter|>Hello!</s><|assistant|>",
        "user_only": "<|prompter|>Hello!</s><|assistant|>",
        "multi": "<|system|>You are a helpful assistant.</s><|prompter|>Hello!</s><|assistant|>Hi! How can I help?</s>"
        "<|prompter|>What is 2+2?</s><|assistant|>",
        "unicode": "<|prompter|>Grüße 👋\nzweite Zeile</s><|assistant|>",
        "empty_system": "<|system|></s><|prompter|>Hello!</s><|assistant|>",
    },
    "falcon": {  # tiiuae/falcon-7b-instruct's template (tests/unit/test_prompt_templates.py renders it)
        "sys_user": "You are a helpful assistant.\n\nUser: Hello!\n\nAssistant:",
        "user_only": "\n\nUser: Hello!\n\nAssistant:",
        "multi": "You are a helpful assistant.\n\nUser: Hello!\n\nAssistant: Hi! How can I help?\n\n"
        "User: What is 2+2?\n\nAssistant:",
        "unicode": "\n\nUser: Grüße 👋\nzweite Zeile\n\nAssistant:",
        "empty_system": "\n\nUser: Hello!\n\nAssistant:",
    },
    "falcon11b": {  # tiiuae/falcon-11B's template
        "sys_user": "System: You are a helpful assistant.\nUser: \nHello!\nFalcon:\n",
        "user_only": "User: \nHello!\nFalcon:\n",
        "multi": "System: You are a helpful assistant.\nUser: \nHello!\nFalcon:\nHi! How can I help?\n"
        "User: \nWhat is 2+2?\nFalcon:\n",
        "unicode": "User: \n  Grüße 👋\nzweite Zeile\t \nFalcon:\n",
        "empty_system": "System: \nUser: \nHello!\nFalcon:\n",
    },
    "chatml_falcon": {
        "sys_user": "<|system|>\nYou are a helpful assistant.<|endoftext|>\n"
        "<|user|>\nHello!<|endoftext|>\n<|assistant|>",
        "user_only": "<|user|>\nHello!<|endoftext|>\n<|assistant|>",
        "multi": "<|system|>\nYou are a helpful assistant.<|endoftext|>\n<|user|>\nHello!<|endoftext|>\n"
        "<|assistant|>\nHi! How can I help?<|endoftext|>\n<|user|>\nWhat is 2+2?<|endoftext|>\n<|assistant|>",
        "unicode": "<|user|>\nGrüße 👋\nzweite Zeile<|endoftext|>\n<|assistant|>",
        "empty_system": "<|system|>\n<|endoftext|>\n<|user|>\nHello!<|endoftext|>\n<|assistant|>",
    },
    "chatml_starchat": {
        "sys_user": "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello!<|end|>\n<|assistant|>",
        "user_only": "<|user|>\nHello!<|end|>\n<|assistant|>",
        "multi": "<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHello!<|end|>\n"
        "<|assistant|>\nHi! How can I help?<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>",
        "unicode": "<|user|>\nGrüße 👋\nzweite Zeile<|end|>\n<|assistant|>",
        "empty_system": "<|system|>\n<|end|>\n<|user|>\nHello!<|end|>\n<|assistant|>",
    },
    "anthropic": {
        "sys_user": "You are a helpful assistant.\n\nHuman: Hello!\n\nAssistant: ",
        "user_only": "\n\nHuman: Hello!\n\nAssistant: ",
        "multi": "You are a helpful assistant.\n\nHuman: Hello!\n\nAssistant: Hi! How can I help?\n\n"
        "Human: What is 2+2?\n\nAssistant: ",
        "unicode": "\n\nHuman: Grüße 👋\nzweite Zeile\n\nAssistant: ",
        "empty_system": "\n\nHuman: Hello!\n\nAssistant: ",
    },
}

BUILDERS: dict[str, Callable[..., str]] = {
    "llama2": pu.build_llama2_prompt,
    "llama3": pu.build_llama3_prompt,
    "mistral": pu.build_mistral_prompt,
    "chatml": pu.build_chatml_prompt,
    "zephyr": pu.build_zephyr_prompt,
    "gemma": pu.build_gemma_prompt,
    "phi3": pu.build_phi3_prompt,
    "vicuna": pu.build_vicuna_prompt,
    "wizardlm": pu.build_wizardlm_prompt,
    "stablebeluga": pu.build_stablebeluga_prompt,
    "open_assistant": pu.build_open_assistant_prompt,
    "falcon": pu.build_falcon_prompt,
    "falcon11b": pu.build_falcon11b_prompt,
    "chatml_falcon": pu.build_chatml_falcon_prompt,
    "chatml_starchat": pu.build_chatml_starchat_prompt,
    "anthropic": pu.build_anthropic_prompt,
}

GOLDEN_CASES = [
    pytest.param(fmt, conv, expected, id=f"{fmt}-{conv}")
    for fmt, cases in GOLDEN.items()
    for conv, expected in cases.items()
]


@pytest.mark.parametrize(("fmt", "conv", "expected"), GOLDEN_CASES)
def test_builder_matches_golden(fmt: str, conv: str, expected: str) -> None:
    assert BUILDERS[fmt](CONVERSATIONS[conv]) == expected


@pytest.mark.parametrize(("fmt", "conv", "expected"), GOLDEN_CASES)
def test_registry_name_builds_the_same_golden(fmt: str, conv: str, expected: str) -> None:
    assert pu.render_prompt(CONVERSATIONS[conv], fmt) == expected


def test_every_builtin_has_goldens() -> None:
    assert set(GOLDEN) == set(BUILDERS) == set(pu.list_prompt_formats())


def test_chatml_hf_keeps_its_original_default_end_token() -> None:
    assert pu.build_chatml_hf_prompt(CONVERSATIONS["user_only"]) == "<|user|>\nHello!<|end|>\n<|assistant|>"
    assert pu.build_chatml_hf_prompt(CONVERSATIONS["user_only"], "{x}") == "<|user|>\nHello!{x}\n<|assistant|>"


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_bare_string_is_one_user_message(fmt: str) -> None:
    assert BUILDERS[fmt]("Hello!") == GOLDEN[fmt]["user_only"]


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_message_objects_with_attributes_are_accepted(fmt: str) -> None:
    objects = [SimpleNamespace(role="user", content=U1)]
    assert BUILDERS[fmt](objects) == GOLDEN[fmt]["user_only"]


# --- refusals ------------------------------------------------------------------------------------------

USER = {"role": "user", "content": "u"}
ASSISTANT = {"role": "assistant", "content": "a"}
SYSTEM = {"role": "system", "content": "s"}
TOOL = {"role": "tool", "content": "t"}

REFUSALS = [
    ("llama2", [USER, USER], "alternate"),
    ("llama2", [ASSISTANT, USER], "alternate"),
    ("llama2", [SYSTEM, ASSISTANT], "alternate"),
    ("llama2", [USER, SYSTEM], "only as the first item"),
    ("llama2", [SYSTEM], "user message"),
    ("llama2", [USER, TOOL], "'tool'"),
    ("mistral", [SYSTEM, USER], "system message"),
    ("mistral", [USER, SYSTEM], "system message"),
    ("mistral", [USER, USER], "alternate"),
    ("mistral", [ASSISTANT], "alternate"),
    ("mistral", [USER, TOOL], "'tool'"),
    ("gemma", [SYSTEM, USER], "system message"),
    ("gemma", [USER, ASSISTANT, ASSISTANT], "alternate"),
    ("gemma", [USER, TOOL], "'tool'"),
    ("zephyr", [USER, TOOL], "'tool'"),
    ("phi3", [USER, TOOL], "'tool'"),
    *[
        (fmt, [USER, SYSTEM], "only as the first item")
        for fmt in ("vicuna", "wizardlm", "stablebeluga", "open_assistant")
    ],
    *[
        (fmt, [USER, SYSTEM], "only as the first item")
        for fmt in ("falcon", "chatml_falcon", "chatml_starchat", "anthropic")
    ],
    *[(fmt, [USER, TOOL], "'tool'") for fmt in ("vicuna", "wizardlm", "stablebeluga", "open_assistant")],
    *[(fmt, [USER, TOOL], "'tool'") for fmt in ("falcon", "chatml_falcon", "chatml_starchat", "anthropic")],
    ("falcon", [USER, USER], "alternate"),
    ("falcon", [ASSISTANT, USER], "alternate"),
    ("falcon", [SYSTEM], "user message"),
    ("falcon11b", [USER, TOOL], "'tool'"),
]


@pytest.mark.parametrize(("fmt", "messages", "phrase"), REFUSALS, ids=lambda v: v if isinstance(v, str) else "")
def test_refused_conversations_raise_a_clear_error(fmt: str, messages: list[dict[str, str]], phrase: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        BUILDERS[fmt](messages)
    assert info.value.param == "messages"
    assert phrase in str(info.value)


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_empty_conversation_is_refused(fmt: str) -> None:
    with pytest.raises(InvalidParameterError, match="at least one message") as info:
        BUILDERS[fmt]([])
    assert fmt.split("_")[0] in str(info.value) or "chatml_hf" in str(info.value)


@pytest.mark.parametrize(
    ("message", "phrase"),
    [
        ({"content": "x"}, "no string 'role'"),
        ({"role": "user"}, "string 'content'"),
        ({"role": "user", "content": None}, "string 'content'"),
        ({"role": "user", "content": [{"type": "text", "text": "x"}]}, "string 'content'"),
    ],
)
@pytest.mark.parametrize("fmt", ["llama2", "chatml", "vicuna"])
def test_malformed_messages_are_refused(fmt: str, message: dict[str, Any], phrase: str) -> None:
    with pytest.raises(InvalidParameterError, match=phrase):
        BUILDERS[fmt]([message])


def test_errors_name_the_format_and_the_position() -> None:
    with pytest.raises(InvalidParameterError) as info:
        pu.build_llama2_prompt([SYSTEM, USER, ASSISTANT, ASSISTANT])
    text = str(info.value)
    assert text.startswith("`messages` ")
    assert "llama2" in text
    assert "item 3" in text


def test_llama2_strips_the_combined_first_turn_like_the_template() -> None:
    # The template strips "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + user as one string: the system text keeps
    # its leading spaces, and an empty user text leaves the closing "\n\n" stripped away.
    messages = [{"role": "system", "content": "  S  "}, {"role": "user", "content": "  "}]
    assert pu.build_llama2_prompt(messages) == "<s>[INST] <<SYS>>\n  S  \n<</SYS>> [/INST]"


def test_conversation_ending_with_an_assistant_turn_has_no_generation_header_in_llama2() -> None:
    messages = [USER, ASSISTANT]
    assert pu.build_llama2_prompt(messages) == "<s>[INST] u [/INST] a </s>"
    assert pu.build_mistral_prompt(messages) == "<s>[INST] u [/INST]a</s>"


def test_tool_role_is_written_as_given_by_formats_whose_template_does() -> None:
    messages = [USER, TOOL]
    assert pu.build_chatml_prompt(messages).endswith("<|im_start|>tool\nt<|im_end|>\n<|im_start|>assistant\n")
    assert "<|start_header_id|>tool<|end_header_id|>\n\nt<|eot_id|>" in pu.build_llama3_prompt(messages)


def test_original_stop_sequence_names() -> None:
    assert pu.llama2_stop_sequences == ["</s>"]
    assert pu.vicuna_stop_sequences == ["</s>"]
    assert pu.wizardlm_stop_sequences == ["</s>"]
    assert pu.stablebeluga_stop_sequences == ["</s>"]
    assert pu.open_assistant_stop_sequences == ["</s>"]
    assert pu.chatml_falcon_stop_sequences == ["<|endoftext|>"]
    assert pu.chatml_starchat_stop_sequences == ["<|end|>"]
    assert pu.falcon_stop_sequences == ["\nUser:", "<|endoftext|>", " User:", "###"]
    assert pu.anthropic_stop_sequences == ["\n\nHuman:"]
