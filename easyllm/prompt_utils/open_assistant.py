"""OpenAssistant format (`<|system|>`, `<|prompter|>`, `<|assistant|>`), as the original easyllm wrote it.

Each message as `<|TAG|>text</s>` with the text stripped (`<|prompter|>` for the user), then
`<|assistant|>`. Only the first message may be a system message; other roles are refused.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, fill_turns

__all__ = ["OPEN_ASSISTANT_STOP", "build_open_assistant_prompt", "open_assistant_stop_sequences"]

OPEN_ASSISTANT_STOP: tuple[str, ...] = ("</s>",)

open_assistant_stop_sequences: list[str] = list(OPEN_ASSISTANT_STOP)
"""The original easyllm name for the OpenAssistant stop strings."""

_PIECES = {"system": "<|system|>{}</s>", "user": "<|prompter|>{}</s>", "assistant": "<|assistant|>{}</s>"}


def build_open_assistant_prompt(messages: Messages) -> str:
    """Build an OpenAssistant prompt.

    Example:
        >>> build_open_assistant_prompt([{"role": "user", "content": "Hi"}])
        '<|prompter|>Hi</s><|assistant|>'

    Raises:
        InvalidParameterError: a system message is not first, or a role other than system, user or
            assistant appears.
    """
    return "".join(fill_turns(messages, "open_assistant", _PIECES)) + "<|assistant|>"
