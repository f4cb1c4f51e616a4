"""A model's own chat template as a prompt builder.

`from_chat_template(source)` reads a Jinja chat template (from a string, a file, a folder or a Hub model id)
and returns a `PromptFormat` that renders it the way transformers'
`apply_chat_template(messages, tokenize=False, add_generation_prompt=True)` does (protocols §7.2):
sandboxed Jinja with `trim_blocks` and `lstrip_blocks`, `raise_exception` and `strftime_now`, a `tojson` that
keeps non-ASCII text, and the variables `messages`, `tools`, `documents`, `add_generation_prompt`, the
tokenizer's special tokens (`bos_token`, `eos_token`, ...) and any extra keyword arguments.

The format's stop strings are the template's `eos_token` plus the common end-of-turn markers the template
writes (`<|im_end|>`, `<|eot_id|>`, `<end_of_turn>`, `<|end|>`). Its BOS text is `bos_token` when the
template writes that variable, so `PromptFormat.strip_bos` can remove it for TGI native routes.

A template that tries to leave the sandbox (reach Python internals, mutate its inputs) raises
`ChatTemplateSecurityError` instead of running; `raise_exception(...)` in a template raises
`ChatTemplateError` with the template's own message. Both are `InvalidParameterError`s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from easyllm.prompt_utils.base import Messages, PromptFormat, refuse
from easyllm.prompt_utils.template_source import ChatTemplateError, load_template_source

__all__ = ["ChatTemplate", "ChatTemplateError", "ChatTemplateSecurityError", "from_chat_template"]

TURN_END_MARKERS: tuple[str, ...] = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>")
"""End-of-turn tokens that become stop strings when a template writes them."""


class ChatTemplateSecurityError(ChatTemplateError):
    """The template tried to do something the sandbox forbids; it was stopped, not run."""


def _plain_messages(messages: Messages) -> list[dict[str, Any]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    plain: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise refuse(f"item {index} must be a mapping with 'role' and 'content' for a chat template")
        plain.append(dict(message))
    return plain


class ChatTemplate:
    r"""A compiled, sandboxed chat template with its fixed variables; calling it renders messages.

    Args:
        template: the Jinja source.
        variables: variables every render sees (special tokens, extra keyword arguments).
        tools: tool JSON schemas every render sees, unless a render passes its own.
        name: how messages refer to this template.

    Raises:
        ChatTemplateError: the template does not compile.

    Example:
        >>> t = ChatTemplate("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}")
        >>> t([{"role": "user", "content": "Hi"}])
        '[user] Hi\n'
    """

    def __init__(
        self,
        template: str,
        *,
        variables: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        name: str = "chat template",
    ) -> None:
        from jinja2 import TemplateSyntaxError

        from easyllm.prompt_utils._jinja import compile_template

        try:
            self._compiled = compile_template(template)
        except TemplateSyntaxError as err:
            raise ChatTemplateError(f"The {name} does not compile: {err} (line {err.lineno}).") from err
        self.source = template
        self.variables: dict[str, Any] = dict(variables or {})
        self.tools = list(tools) if tools is not None else None
        self.name = name

    def __call__(self, messages: Messages) -> str:
        """Render `messages` with the generation prompt (the builder interface)."""
        return self.render(messages)

    def __repr__(self) -> str:
        return f"ChatTemplate(name={self.name!r})"

    def render(
        self,
        messages: Messages,
        *,
        add_generation_prompt: bool = True,
        tools: Sequence[Mapping[str, Any]] | None = None,
        documents: Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> str:
        """Render the template for `messages`.

        Args:
            messages: the conversation (a bare string is one user message).
            add_generation_prompt: end with the header of the assistant's turn.
            tools: tool JSON schemas for this render (default: the ones given at creation, else None).
            documents: documents for retrieval templates.
            **kwargs: more template variables for this render (they override the fixed ones).

        Raises:
            ChatTemplateError: the template refused the conversation or failed to render.
            ChatTemplateSecurityError: the template tried to leave the sandbox.
        """
        context: dict[str, Any] = {**self.variables, **kwargs}
        context.update(
            messages=_plain_messages(messages),
            tools=list(tools) if tools is not None else self.tools,
            documents=documents,
            add_generation_prompt=add_generation_prompt,
        )
        return self._render(context)

    def _render(self, context: dict[str, Any]) -> str:
        from jinja2.exceptions import SecurityError, TemplateError

        from easyllm.prompt_utils._jinja import TemplateRefusal

        try:
            return self._compiled.render(context)
        except SecurityError as err:
            raise ChatTemplateSecurityError(
                f"The {self.name} tried an operation the sandbox forbids and was stopped: {err}"
            ) from err
        except TemplateRefusal as err:
            raise ChatTemplateError(f"were refused by the {self.name}: {err}", param="messages") from err
        except (TemplateError, TypeError) as err:
            raise ChatTemplateError(
                f"The {self.name} failed to render: {err}. If it names a missing variable, pass it as a "
                "keyword argument (for example bos_token='<s>')."
            ) from err


def _stop_strings(template: str, eos_token: str | None) -> tuple[str, ...]:
    stops = [marker for marker in TURN_END_MARKERS if marker in template]
    if eos_token and eos_token not in stops:
        stops.append(eos_token)
    return tuple(stops)


def from_chat_template(
    source: str | os.PathLike[str],
    *,
    name: str | None = None,
    template_name: str | None = None,
    bos_token: str | None = None,
    eos_token: str | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    **template_kwargs: Any,
) -> PromptFormat:
    """Make a prompt format from a model's own chat template.

    Args:
        source: Jinja template text; a path to `tokenizer_config.json`, `chat_template.jinja` or a model
            folder; or a Hub model id (fetched with `huggingface_hub.hf_hub_download`, cached, and read from
            the cache alone when `HF_HUB_OFFLINE=1`).
        name: the format's name (default: the model id or path, or "chat_template").
        template_name: which named template to use when the config holds several (default "default").
        bos_token: overrides (or, for a bare template string, supplies) the BOS token.
        eos_token: overrides (or, for a bare template string, supplies) the EOS token.
        tools: tool JSON schemas passed to the template on every render.
        revision: the Hub revision (branch, tag or commit) for a model id.
        cache_dir: the Hub cache folder for a model id (default: huggingface_hub's).
        **template_kwargs: extra template variables (for example `enable_thinking=False`).

    Returns:
        A `PromptFormat` whose `build` is a `ChatTemplate`, with the template's stop strings and BOS text.

    Raises:
        ChatTemplateError: the template could not be found, read or compiled.

    Example:
        >>> fmt = from_chat_template(
        ...     "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}",
        ...     bos_token="<s>",
        ...     eos_token="</s>",
        ... )
        >>> fmt([{"role": "user", "content": "Hi"}]), fmt.stop, fmt.bos
        ('<s>Hi</s>', ('</s>',), '<s>')
    """
    loaded = load_template_source(source, template_name=template_name, revision=revision, cache_dir=cache_dir)
    tokens = dict(loaded.special_tokens)
    tokens.update({k: v for k, v in (("bos_token", bos_token), ("eos_token", eos_token)) if v is not None})
    label = name or (loaded.origin if loaded.origin != "<string>" else "chat_template")
    template = ChatTemplate(
        loaded.template,
        variables={**tokens, **template_kwargs},
        tools=tools,
        name=f"chat template of {label}",
    )
    bos = tokens.get("bos_token") if "bos_token" in loaded.template else None
    return PromptFormat(
        name=label, build=template, stop=_stop_strings(loaded.template, tokens.get("eos_token")), bos=bos or None
    )
