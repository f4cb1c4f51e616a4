"""Showing a chat template the offered tools, and a conversation's past calls and their results."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from easyllm.serve.tools.plan import ToolPlan


def prompt_messages(
    messages: Sequence[dict[str, Any]], plan: ToolPlan, template: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages (and extra template variables) that show a chat template the tools and past calls.

    A template that mentions `tools` gets them as its `tools` variable (as transformers passes them) and the past
    calls as they are, with their arguments read into objects. Any other template gets the offer as a system
    message (merged into the first one when there is one), each past call said in words by the assistant
    (`I will call f({"a": 1}).`), and the results of consecutive calls as one user message (`f returned: ...`).

    Args:
        messages: The request's messages, flattened to text (`message_dict`).
        plan: The tool plan.
        template: The chat template's source.

    Returns:
        The messages and the template variables to render with.
    """
    if "tools" in template:
        extra = {"tools": [{"type": "function", "function": f} for f in plan.functions]} if plan.active else {}
        return [_with_call_objects(m) for m in messages], extra
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for message in messages:
        calls = message.get("tool_calls") or []
        if message.get("role") == "assistant" and calls:
            for call in calls:
                names[str(call.get("id"))] = str(call.get("function", {}).get("name"))
            text = "\n".join(_call_words(call) for call in calls)
            out.append({"role": "assistant", "content": "\n".join(t for t in (message.get("content"), text) if t)})
        elif message.get("role") == "tool":
            name = names.get(str(message.get("tool_call_id")), "the function")
            result = f"{name} returned: {message.get('content', '')}"
            if out and out[-1].get("role") == "user" and out[-1].get("_results"):
                out[-1]["content"] += "\n" + result
            else:
                out.append({"role": "user", "content": result, "_results": True})
        else:
            out.append(message)
    out = [{k: v for k, v in m.items() if k != "_results"} for m in out]
    if plan.active:
        if out and out[0].get("role") == "system":
            out[0] = {**out[0], "content": f"{out[0].get('content', '')}\n\n{plan.instructions()}"}
        else:
            out.insert(0, {"role": "system", "content": plan.instructions()})
    return out, {}


def _call_words(call: Mapping[str, Any]) -> str:
    function = call.get("function") or {}
    arguments = json.dumps(_arguments(function.get("arguments")), ensure_ascii=False)
    return f"I will call {function.get('name')}({arguments})."


def _arguments(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _with_call_objects(message: dict[str, Any]) -> dict[str, Any]:
    calls = message.get("tool_calls")
    if not calls:
        return message
    read = [
        {**c, "function": {**c.get("function", {}), "arguments": _arguments(c.get("function", {}).get("arguments"))}}
        for c in calls
    ]
    return {**message, "tool_calls": read}
