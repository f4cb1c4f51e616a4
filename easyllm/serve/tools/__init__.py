"""Function calling on the local server: offering the tools, holding the answer to a call, reading it back.

A request with `tools` and a `tool_choice` other than `"none"` is answered under a JSON schema (the engine's
llguidance mask), so that the answer is always a well-formed call (`plan.py`):

- `"required"`: `{"name": <one of the tools>, "arguments": <that tool's parameters>}`;
- a named function (`{"type": "function", "function": {"name": ...}}`): that function's arguments alone;
- `"auto"` (the default when tools are given): one of those calls, or `{"content": <the answer>}` so the model
  may answer in words instead (the answer is a string, or a value of the `response_format` schema when one is
  asked).

The model learns of the tools from its chat template when the template takes `tools`; otherwise from a system
message of ours, and a conversation's past calls and results are shown to such a template in words (`prompt.py`).
`AnswerReader` (`reader.py`) turns the generated JSON back into OpenAI's shapes: a message with `tool_calls` (or
`content`), whole or as stream deltas. One call per answer (`parallel_tool_calls` is accepted; the model makes one).

Example:
    >>> weather = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
    >>> plan = plan_tools([weather], "required")
    >>> reader = AnswerReader(plan, call_id="call_1")
    >>> reader.feed('{"name": "weather", "arguments": {"city"')
    [{'tool_calls': [{'index': 0, 'id': 'call_1', 'type': 'function', 'function': {'name': 'weather', \
'arguments': '{"city"'}}]}]
    >>> reader.feed(': "Paris"}}')
    [{'tool_calls': [{'index': 0, 'function': {'arguments': ': "Paris"}'}}]}]
    >>> reader.message()
    (None, [{'id': 'call_1', 'type': 'function', 'function': {'name': 'weather', 'arguments': '{"city": "Paris"}'}}])
"""

from easyllm.serve.tools.plan import ToolPlan, plan_tools
from easyllm.serve.tools.prompt import prompt_messages
from easyllm.serve.tools.reader import AnswerReader

__all__ = ["AnswerReader", "ToolPlan", "plan_tools", "prompt_messages"]
