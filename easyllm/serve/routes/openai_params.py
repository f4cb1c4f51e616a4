"""Request bodies of the Messages API (`/v1/chat/completions`, `/v1/completions`) and their TGI parameters.

The translation is TGI's: `temperature: 0` means greedy, any other temperature samples (so sampling
is the default), `max_tokens` becomes `max_new_tokens`, `top_logprobs` becomes `top_n_tokens`. `top_p: 1.0`
is refused (422), as in TGI. `presence_penalty` keeps its OpenAI meaning here (TGI maps it to a repetition
penalty instead).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from easyllm.protocol.options import native_grammar
from easyllm.serve.params import GenerateParameters, RequestValidationError


class StreamOptions(BaseModel):
    """`stream_options`."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatMessage(BaseModel):
    """One message; `content` may be a string or a list of parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class SamplingFields(BaseModel):
    """The OpenAI sampling fields shared by both routes."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    max_tokens: int | None = Field(None, ge=0)
    max_completion_tokens: int | None = Field(None, ge=0)
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    seed: int | None = Field(None, ge=0, lt=2**64)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    logit_bias: list[float] | None = None
    n: int | None = None

    def to_parameters(self, *, top_n_tokens: int = 0, grammar: dict[str, Any] | None = None) -> GenerateParameters:
        """Translate to TGI parameters (details always on: the answer needs the finish reason).

        Args:
            top_n_tokens: Alternatives per token to report.
            grammar: TGI's `grammar` parameter (`response_format_grammar`).

        Returns:
            TGI parameters.
        """
        greedy = self.temperature == 0
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return GenerateParameters(
            do_sample=not greedy,
            temperature=None if greedy else self.temperature,
            top_p=self.top_p,
            max_new_tokens=self.max_completion_tokens or self.max_tokens,
            frequency_penalty=self.frequency_penalty,
            presence_penalty=self.presence_penalty,
            repetition_penalty=self.repetition_penalty,
            seed=self.seed,
            stop=stop,
            details=True,
            top_n_tokens=top_n_tokens or None,
            grammar=grammar,
        )

    @property
    def include_usage(self) -> bool:
        """Whether a stream ends with a usage chunk."""
        return bool(self.stream_options and self.stream_options.include_usage)


class ChatRequest(SamplingFields):
    """`POST /v1/chat/completions`."""

    messages: list[ChatMessage] = Field(min_length=1)
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0)
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None


class CompletionRequest(SamplingFields):
    """`POST /v1/completions`."""

    prompt: str | list[str]
    suffix: str | None = None
    echo: bool = False


def response_format_grammar(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """TGI's `grammar` parameter for an OpenAI `response_format`; None for `text` or none.

    `json_schema` gives its schema; `json_object` gives the schema under TGI's `value` or llama-cpp-python's
    `schema` (the forms easyllm's dialects send), or any JSON without one.
    """
    if not response_format or response_format.get("type") == "text":
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise RequestValidationError("`response_format.json_schema.schema` must be a JSON schema")
        return native_grammar(response_format)  # what the client sends TGI's native route for it
    if kind == "json_object":
        return {"type": "json", "value": response_format.get("value", response_format.get("schema"))}
    raise RequestValidationError(f"`response_format.type` {kind!r} is not supported")
