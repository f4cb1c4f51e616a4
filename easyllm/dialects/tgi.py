"""Text Generation Inference (TGI), at a server's own root or behind an OpenAI-compatible `/v1`.

Chat without a prompt builder goes to TGI's Messages API (`/v1/chat/completions`), so the model's own chat
template is used; a TGI without it (before 1.4, or another server at that root) answers 404/405, and the native
route with a client-side prompt is used instead (the shells remember it per route). With a prompt builder, the
native route (`POST /` with `inputs` / `parameters`). Text completions use the native route, which has
`logprobs` and `echo`. Structured output becomes TGI's `grammar` (native) or its `response_format` with a
`value` (Messages API). TGI reads `model` as a LoRA adapter id, so the Messages API is sent `model: "tgi"`.

Embeddings at a root that is not TEI go to the URL itself, as Inference Endpoints' default container and the
original easyllm did. Recognised by `GET /info` (`max_total_tokens`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from easyllm.dialects.base import ChatCall, EmbedCall, Probe, TextCall
from easyllm.dialects.paths import is_v1, server_root
from easyllm.dialects.server_root import ServerRoot
from easyllm.protocol.messages import ChatWire
from easyllm.protocol.requests import (
    chosen_prompt_builder,
    embedding_plan,
    messages_chat_plan,
    messages_text_plan,
    native_chat_plan,
    native_text_plan,
)

if TYPE_CHECKING:
    from easyllm.protocol.embeddings import EmbeddingPlan
    from easyllm.protocol.generation import CompletionPlan
    from easyllm.settings import Settings

__all__ = ["TGI", "tgi_response_format"]


def tgi_response_format(value: Mapping[str, Any]) -> dict[str, Any] | None:
    """TGI's Messages API form of OpenAI's `response_format` (`json_object` with a `value` schema).

    Example:
        >>> tgi_response_format({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}})
        {'type': 'json_object', 'value': {'type': 'object'}}
    """
    if value.get("type") == "json_schema":
        return {"type": "json_object", "value": value["json_schema"]["schema"]}
    if value.get("type") == "json_object":
        return {"type": "json_object", "value": {"type": "object"}}
    return None


class TGI(ServerRoot):
    """TGI's native routes and its Messages API."""

    name = "tgi"
    hub_models = True
    probe: ClassVar[Probe | None] = Probe("/info", ("model_id", "max_total_tokens"))
    wire: ClassVar[ChatWire] = ChatWire(
        developer_as_system=True,
        max_stops=4,
        top_p_one=False,
        extra_sampling=False,
        openai_extras=False,
        server_model=False,
        response_format=tgi_response_format,
    )

    def generation_url(self, settings: Settings, model: str | None) -> str:
        """TGI's native route for this model (the server's root)."""
        return server_root(settings.api_base)

    def body_model(self, model: str | None) -> str:
        """The `model` the Messages API is sent (TGI would read any other name as a LoRA adapter)."""
        return "tgi"

    def chat(self, call: ChatCall) -> CompletionPlan:
        """The Messages API (falling back to the native route), or the native route with a prompt builder."""
        settings = call.settings
        if is_v1(settings.api_base):  # reached as an OpenAI-compatible server: the template is the server's
            url = f"{settings.api_base}/chat/completions"
            return messages_chat_plan(call, self.wire, url, body_model=self.body_model(call.model))
        native = self.generation_url(settings, call.model)
        if chosen_prompt_builder(call.prompt_builder) is not None:
            return native_chat_plan(call, native)
        return messages_chat_plan(
            call,
            self.wire,
            f"{native}/v1/chat/completions",
            body_model=self.body_model(call.model),
            alternative=lambda: native_chat_plan(call, native),
        )

    def completion(self, call: TextCall) -> CompletionPlan:
        """The native route (`/v1/completions` when reached through a `/v1` base)."""
        if is_v1(call.settings.api_base):
            url = f"{call.settings.api_base}/completions"
            return messages_text_plan(call, self.wire, url, body_model=self.body_model(call.model))
        return native_text_plan(call, self.generation_url(call.settings, call.model))

    def embeddings(self, call: EmbedCall) -> EmbeddingPlan:
        """`POST` to the URL itself (Inference Endpoints' default container), feature-extraction shape."""
        if is_v1(call.settings.api_base):
            return embedding_plan(call, f"{call.settings.api_base}/embeddings", "openai", body_model=call.model)
        return embedding_plan(call, call.settings.api_base, "pipeline")
