r"""Vicuna and WizardLM formats (`USER:` / `ASSISTANT:`), as the original easyllm wrote them.

Neither model ships a chat template, so these follow the formats their authors documented and the original
easyllm builders: the text of each message is stripped, only the first message may be a system message,
and other roles are refused.

- Vicuna v1.1+: `S\n\nUSER: U1\nASSISTANT: A1</s>\nUSER: U2\nASSISTANT: `
- WizardLM: `S USER: U1 ASSISTANT: A1 USER: U2 ASSISTANT: ` (an empty system message leaves no gap)
"""

from __future__ import annotations

from easyllm.prompt_utils.base import Messages, fill_turns

__all__ = [
    "VICUNA_STOP",
    "WIZARDLM_STOP",
    "build_vicuna_prompt",
    "build_wizardlm_prompt",
    "vicuna_stop_sequences",
    "wizardlm_stop_sequences",
]

VICUNA_STOP: tuple[str, ...] = ("</s>",)
WIZARDLM_STOP: tuple[str, ...] = ("</s>",)

vicuna_stop_sequences: list[str] = list(VICUNA_STOP)
"""The original easyllm name for the Vicuna stop strings."""
wizardlm_stop_sequences: list[str] = list(WIZARDLM_STOP)
"""The original easyllm name for the WizardLM stop strings."""


def build_vicuna_prompt(messages: Messages) -> str:
    r"""Build a Vicuna prompt.

    Example:
        >>> build_vicuna_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        'Be brief.\n\nUSER: Hi\nASSISTANT: '

    Raises:
        InvalidParameterError: a system message is not first, or a role other than system, user or
            assistant appears.
    """
    pieces = {"system": "{}\n\n", "user": "USER: {}\n", "assistant": "ASSISTANT: {}</s>\n"}
    return "".join(fill_turns(messages, "vicuna", pieces)) + "ASSISTANT: "


def build_wizardlm_prompt(messages: Messages) -> str:
    """Build a WizardLM prompt.

    Example:
        >>> build_wizardlm_prompt([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        'Be brief. USER: Hi ASSISTANT: '

    Raises:
        InvalidParameterError: a system message is not first, or a role other than system, user or
            assistant appears.
    """
    pieces = {"system": "{}", "user": "USER: {}", "assistant": "ASSISTANT: {}"}
    return " ".join(fill_turns(messages, "wizardlm", pieces)).lstrip() + " ASSISTANT: "
