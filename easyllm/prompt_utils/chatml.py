r"""ChatML, the `<|im_start|>` family (OpenHermes, Qwen, SmolLM, dolphin, ...).

Reproduces, byte for byte, the plain ChatML template (teknium/OpenHermes-2.5-Mistral-7B): each message as
`<|im_start|>ROLE\ntext<|im_end|>\n` with the text untouched and the role written as given, then
`<|im_start|>assistant\n`. There is no BOS text.

Some ChatML models add a default system message when the conversation has none: Qwen2 ("You are a helpful
assistant.") and SmolLM2 ("You are a helpful AI assistant named SmolLM, trained by Hugging Face"). With a
system message of your own the output is the same as theirs; without one, either pass their default
explicitly or load the model's own template with `from_chat_template`.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, as_turns

__all__ = ["CHATML_STOP", "build_chatml_prompt"]

CHATML_STOP: tuple[str, ...] = ("<|im_end|>",)


def build_chatml_prompt(messages: Messages) -> str:
    r"""Build a ChatML prompt, exactly as the plain ChatML template renders it.

    Example:
        >>> build_chatml_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
    """
    turns = as_turns(messages, "chatml")
    return "".join(f"<|im_start|>{t.role}\n{t.content}<|im_end|>\n" for t in turns) + "<|im_start|>assistant\n"
