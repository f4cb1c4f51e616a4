"""What a request's `tools` and `tool_choice` ask of the answer: the checks, and the JSON schema that holds it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from easyllm.serve.params import RequestValidationError

Mode = Literal["none", "auto", "required", "named"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class ToolPlan:
    """What a request's `tools` and `tool_choice` ask of the answer.

    Attributes:
        mode: `none` (answer freely, tools not offered), `auto`, `required` or `named`.
        functions: The offered functions, `{"name", "description"?, "parameters"}` each.
        named: The function a named `tool_choice` forces.
        content_schema: In `auto` mode, the schema of an answer in words (None: a string; `{}`: any JSON object,
            as `json_object` asks).
    """

    mode: Mode = "none"
    functions: tuple[dict[str, Any], ...] = ()
    named: str | None = None
    content_schema: dict[str, Any] | None = None

    @property
    def active(self) -> bool:
        """Whether the answer is held to the call schema."""
        return self.mode != "none"

    def schema(self) -> dict[str, Any]:
        """The JSON schema the answer must follow (only when `active`).

        `$defs` of the functions' parameters (pydantic models with nested models have them) are moved to the
        root under a per-function prefix, with their `$ref`s rewritten, so that each reference still resolves.
        """
        defs: dict[str, Any] = {}
        if self.mode == "named":
            schema = _hoisted(self._parameters(self.named), "", defs)
        else:
            options = [
                _object({"name": {"const": f["name"]}, "arguments": _hoisted(f["parameters"], f"f{i}_", defs)})
                for i, f in enumerate(self.functions)
            ]
            if self.mode == "auto":
                content = {"type": "string"} if self.content_schema is None else self.content_schema
                options.append(_object({"content": _hoisted(content or {"type": "object"}, "content_", defs)}))
            schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {**schema, "$defs": {**schema.get("$defs", {}), **defs}} if defs else schema

    def instructions(self) -> str:
        """The system text that offers the tools to a template without tool support."""
        listing = json.dumps(list(self.functions), ensure_ascii=False)
        if self.mode == "named":
            ask = f"Answer with the arguments of a call to {self.named}, as a JSON object."
        else:
            ask = 'To call one, answer {"name": <its name>, "arguments": <an object>}.'
            if self.mode == "auto":
                ask += ' To answer in words, answer {"content": <your answer>}.'
        return f"Functions you can call:\n{listing}\n{ask}"

    def _parameters(self, name: str | None) -> dict[str, Any]:
        return next(f["parameters"] for f in self.functions if f["name"] == name)


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _hoisted(schema: dict[str, Any], prefix: str, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema without its `$defs` / `definitions`, which go into `defs` renamed `prefix + name`."""
    own = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    if not own:
        return schema
    renamed = {f"#/{where}/{name}": f"#/$defs/{prefix}{name}" for where in ("$defs", "definitions") for name in own}
    for name, sub in own.items():
        defs[f"{prefix}{name}"] = _rewrite(sub, renamed)
    body = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
    return dict(_rewrite(body, renamed))


def _rewrite(value: Any, renamed: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: renamed.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, renamed)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, renamed) for v in value]
    return value


def plan_tools(tools: Sequence[Any] | None, tool_choice: Any, content_schema: dict[str, Any] | None = None) -> ToolPlan:
    """Check `tools` and `tool_choice` and say what the answer must be.

    Args:
        tools: The request's `tools` (chat-completion form: `{"type": "function", "function": {...}}`).
        tool_choice: `"none"`, `"auto"`, `"required"`, `{"type": "function", "function": {"name": ...}}`, or None
            (`"auto"` with tools, `"none"` without).
        content_schema: The `response_format` schema, which an answer in words must follow in `auto` mode.

    Returns:
        The plan.

    Raises:
        RequestValidationError: A tool is not a function with a valid name and an object schema, two share a
            name, or `tool_choice` is not one of the forms above or names no given tool.
    """
    functions = tuple(_function(i, tool) for i, tool in enumerate(tools or ()))
    names = [f["name"] for f in functions]
    if len(set(names)) != len(names):
        raise RequestValidationError("`tools` has two functions with the same name")
    if tool_choice is None:
        tool_choice = "auto" if functions else "none"
    if tool_choice == "none":
        return ToolPlan("none", functions)
    if not functions:
        raise RequestValidationError("`tool_choice` needs `tools`")
    if tool_choice in ("auto", "required"):
        return ToolPlan(tool_choice, functions, content_schema=content_schema if tool_choice == "auto" else None)
    chosen = tool_choice.get("function") if isinstance(tool_choice, Mapping) else None
    name = chosen.get("name") if isinstance(chosen, Mapping) else None
    if not isinstance(tool_choice, Mapping) or tool_choice.get("type") != "function" or not isinstance(name, str):
        raise RequestValidationError(
            '`tool_choice` must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}'
        )
    if name not in names:
        raise RequestValidationError(f"`tool_choice` names {name!r}, which is not in `tools`")
    return ToolPlan("named", functions, named=name)


def _function(index: int, tool: Any) -> dict[str, Any]:
    where = f"`tools[{index}]`"
    spec = tool.get("function") if isinstance(tool, Mapping) else None
    if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(spec, Mapping):
        raise RequestValidationError(f'{where} must be {{"type": "function", "function": {{"name": ...}}}}')
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise RequestValidationError(f"{where}.function.name must be 1 to 64 letters, digits, '_' or '-'")
    parameters = spec.get("parameters") or _NO_PARAMETERS
    if not isinstance(parameters, Mapping):
        raise RequestValidationError(f"{where}.function.parameters must be a JSON schema (an object)")
    out = {"name": name, "parameters": dict(parameters)}
    if spec.get("description"):
        out["description"] = str(spec["description"])
    return out
