r"""Stable Beluga format (`### System:` / `### User:` / `### Assistant:`), as the original easyllm wrote it.

The model ships no chat template; this follows its model card and the original easyllm builder: each
message as `### ROLE:\ntext\n\n` with the text stripped, then `### Assistant:` (no newline). Only the
first message may be a system message; other roles are refused.
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, fill_turns

__all__ = ["STABLEBELUGA_STOP", "build_stablebeluga_prompt", "stablebeluga_stop_sequences"]

STABLEBELUGA_STOP: tuple[str, ...] = ("</s>",)

stablebeluga_stop_sequences: list[str] = list(STABLEBELUGA_STOP)
"""The original easyllm name for the Stable Beluga stop strings."""

_PIECES = {"system": "### System:\n{}\n\n", "user": "### User:\n{}\n\n", "assistant": "### Assistant:\n{}\n\n"}


def build_stablebeluga_prompt(messages: Messages) -> str:
    r"""Build a Stable Beluga prompt.

    Example:
        >>> build_stablebeluga_prompt([{"role": "user", "content": "Hi"}])
        '### User:\nHi\n\n### Assistant:'

    Raises:
        InvalidParameterError: a system message is not first, or a role other than system, user or
            assistant appears.
    """
    return "".join(fill_turns(messages, "stablebeluga", _PIECES)) + "### Assistant:"
