"""Mistral / Mixtral instruct format (`[INST] ... [/INST]`).

Reproduces, byte for byte, the template of mistralai/Mixtral-8x7B-Instruct-v0.1 and of the first releases of
mistralai/Mistral-7B-Instruct-v0.1/v0.2: `<s>` once, each user turn as `[INST] text [/INST]`, each
assistant turn as `text</s>`, no whitespace stripping and no generation prompt. That template has no
system role and refuses roles that do not alternate user/assistant; so does this builder, with a message
that says what to do instead.

Later revisions of the Mistral-7B repos ship a different template (a system message folded into the first
user turn, a space before each `[INST]`). For those, load the model's own template with
`from_chat_template("mistralai/...")`.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, as_turns, refuse, require_alternation, require_roles

__all__ = ["MISTRAL_BOS", "MISTRAL_STOP", "build_mistral_prompt"]

MISTRAL_BOS = "<s>"
MISTRAL_STOP: tuple[str, ...] = ("</s>",)


def build_mistral_prompt(messages: Messages) -> str:
    """Build a Mistral / Mixtral instruct prompt, exactly as the official template renders it.

    Example:
        >>> build_mistral_prompt([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
        ...                       {"role": "user", "content": "Bye"}])
        '<s>[INST] Hi [/INST]Hello</s>[INST] Bye [/INST]'

    Raises:
        InvalidParameterError: a system message is present (the format has none: put the instructions at the
            start of the first user message), or the roles do not alternate user/assistant.
    """
    turns = as_turns(messages, "mistral")
    for index, turn in enumerate(turns):
        if turn.role == "system":
            raise refuse(
                f"item {index} is a system message, which the official mistral template does not accept; "
                "put the instructions at the start of the first user message, or use from_chat_template() "
                "with the model's current template"
            )
    require_roles(turns, ("user", "assistant"), "mistral")
    require_alternation(turns, "mistral")
    parts = [MISTRAL_BOS]
    for turn in turns:
        parts.append(f"[INST] {turn.content} [/INST]" if turn.role == "user" else f"{turn.content}</s>")
    return "".join(parts)
