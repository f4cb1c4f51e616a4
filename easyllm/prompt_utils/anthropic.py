r"""The Claude text-completion format (`\n\nHuman:` / `\n\nAssistant:`), as the original easyllm wrote it.

A system message is written first as given, then `\n\nHuman: U` and `\n\nAssistant: A` (stripped), then
`\n\nAssistant: `. Only the first message may be a system message; other roles are refused.

The stop string is `\n\nHuman:`, the start of the next human turn. (The original easyllm listed "User:",
which never occurs in this format.)
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, fill_turns

__all__ = ["ANTHROPIC_STOP", "anthropic_stop_sequences", "build_anthropic_prompt"]

ANTHROPIC_STOP: tuple[str, ...] = ("\n\nHuman:",)

anthropic_stop_sequences: list[str] = list(ANTHROPIC_STOP)
"""The stop strings of this format, under the original easyllm name."""

_PIECES = {"system": "{}", "user": "\n\nHuman: {}", "assistant": "\n\nAssistant: {}"}


def build_anthropic_prompt(messages: Messages) -> str:
    r"""Build a Claude text-completion prompt.

    Example:
        >>> build_anthropic_prompt([{"role": "user", "content": "Hi"}])
        '\n\nHuman: Hi\n\nAssistant: '

    Raises:
        InvalidParameterError: a system message is not first, or a role other than system, user or
            assistant appears.
    """
    return "".join(fill_turns(messages, "anthropic", _PIECES, keep_whitespace=("system",))) + "\n\nAssistant: "
