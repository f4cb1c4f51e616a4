"""What a server's models can do, as pure code: its answers turned into openai>=1 `Model` shapes.

Sources, by kind of server:

Each dialect says where to ask (`Dialect.model_routes`):

- a TGI or TEI root: `GET /info` (TGI: `max_input_tokens` (`max_input_length` before v2.1), `max_total_tokens`,
  `max_client_batch_size`, `max_stop_sequences`; TEI: `model_type` says embedding / classifier / reranker);
- an OpenAI-compatible `/v1`: `GET /v1/models` (vLLM adds `max_model_len`; llama.cpp adds `meta.n_ctx_train`
  and, at the server root, `GET /props` with `n_ctx`, `chat_template` and `chat_template_caps`).

Every model carries `limits` (`max_input_tokens`, `max_total_tokens`, `max_batch_size`, `max_stop_sequences`)
and `capabilities` (`chat`, `chat_template`, `tools`, `embeddings`, `rerank`, `classification`, `responses`), each
None when the server does not say, and `server` (`tgi`, `tei`, `vllm`, `llama.cpp`, `openai`). A server that
reports `limits` / `capabilities` itself (`easyllm serve`) has them taken as they are.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

from easyllm.errors import APIResponseValidationError, APIStatusError, InvalidParameterError, NotFoundError
from easyllm.protocol.generation import HTTPCall, Reply

__all__ = [
    "CAPABILITIES",
    "LIMITS",
    "ModelRoutes",
    "find_model",
    "model_from_info",
    "models_flow",
    "models_from_list",
    "models_list",
    "wants_props",
]


@dataclass(frozen=True)
class ModelRoutes:
    """Where a server tells what it serves (a dialect's `model_routes`).

    Attributes:
        info: TGI/TEI's `/info`, asked first when there is one.
        models: an OpenAI-compatible `/models` list (after a 404 from `info`), or None.
        props: llama.cpp's `/props`, asked only when the list is llama.cpp's, or None.
    """

    info: str | None
    models: str | None
    props: str | None = None


LIMITS = ("max_input_tokens", "max_total_tokens", "max_batch_size", "max_stop_sequences")
CAPABILITIES = ("chat", "chat_template", "tools", "embeddings", "rerank", "classification", "responses")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _own(entry: Mapping[str, Any], key: str, names: tuple[str, ...]) -> dict[str, Any]:
    """A `limits` / `capabilities` object the server reported itself, limited to the known names."""
    given = entry.get(key)
    return {name: given.get(name) for name in names if name in given} if isinstance(given, Mapping) else {}


def _model(
    model_id: str,
    owned_by: str,
    server: str,
    limits: Mapping[str, Any],
    capabilities: Mapping[str, Any],
    created: object = 0,
) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": created if isinstance(created, int) and not isinstance(created, bool) else 0,
        "owned_by": owned_by,
        "server": server,
        "limits": {name: limits.get(name) for name in LIMITS},
        "capabilities": {name: capabilities.get(name) for name in CAPABILITIES},
    }


def model_from_info(info: object) -> dict[str, Any]:
    """The model behind a TGI or TEI `/info` answer.

    Example:
        >>> m = model_from_info({"model_id": "BAAI/bge-reranker-base", "model_type": {"reranker": {}},
        ...     "max_input_length": 512, "max_client_batch_size": 32})
        >>> m["server"], m["limits"]["max_batch_size"], m["capabilities"]["rerank"]
        ('tei', 32, True)
    """
    if not isinstance(info, Mapping) or not isinstance(info.get("model_id"), str):
        raise APIResponseValidationError(f"expected a TGI/TEI /info answer with `model_id`, got {str(info)[:200]!r}")
    model_id = info["model_id"]
    kind = info.get("model_type")
    if isinstance(kind, Mapping):
        limits = {
            "max_input_tokens": _int(info.get("max_input_length")),
            "max_batch_size": _int(info.get("max_client_batch_size")),
        }
        capabilities = {
            "chat": False, "chat_template": False, "tools": False, "responses": False,
            "embeddings": "embedding" in kind, "rerank": "reranker" in kind, "classification": "classifier" in kind,
        }  # fmt: skip
        server = "tei"
    else:
        limits = {
            "max_input_tokens": _int(info.get("max_input_tokens", info.get("max_input_length"))),
            "max_total_tokens": _int(info.get("max_total_tokens")),
            "max_batch_size": _int(info.get("max_client_batch_size")),
            "max_stop_sequences": info.get("max_stop_sequences")
            if isinstance(info.get("max_stop_sequences"), int)
            else None,
        }
        capabilities = {"embeddings": False, "rerank": False, "classification": False, "responses": False}
        server = "tgi"
    limits.update(_own(info, "limits", LIMITS))
    capabilities.update(_own(info, "capabilities", CAPABILITIES))
    return _model(model_id, model_id.split("/")[0], str(info.get("server") or server), limits, capabilities)


def _server_of(entry: Mapping[str, Any]) -> str:
    if isinstance(entry.get("server"), str):
        return str(entry["server"])
    if "max_model_len" in entry or entry.get("owned_by") == "vllm":
        return "vllm"
    if isinstance(entry.get("meta"), Mapping) or entry.get("owned_by") == "llamacpp":
        return "llama.cpp"
    return "openai"


def wants_props(body: object) -> bool:
    """Whether a `/v1/models` answer is llama.cpp's, whose `/props` tells more (one more request)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    return isinstance(data, list) and any(isinstance(e, Mapping) and _server_of(e) == "llama.cpp" for e in data)


def _from_props(props: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    settings = props.get("default_generation_settings")
    n_ctx = _int(settings.get("n_ctx")) if isinstance(settings, Mapping) else None
    template = props.get("chat_template")
    caps = props.get("chat_template_caps")
    tools = caps.get("supports_tools") if isinstance(caps, Mapping) else None
    has_template = isinstance(template, str) and bool(template)
    capabilities = {
        "chat": has_template,
        "chat_template": has_template,
        "tools": tools if isinstance(tools, bool) else None,
    }
    return {"max_total_tokens": n_ctx}, capabilities


def models_from_list(body: object, props: object = None) -> list[dict[str, Any]]:
    """The models of an OpenAI-compatible `/models` answer (with llama.cpp's `/props`, when it was asked).

    Example:
        >>> [m["limits"]["max_total_tokens"] for m in models_from_list({"object": "list", "data": [
        ...     {"id": "Qwen/Qwen3-8B", "object": "model", "created": 1, "owned_by": "vllm", "max_model_len": 32768}]})]
        [32768]
    """
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list) or not all(isinstance(e, Mapping) and isinstance(e.get("id"), str) for e in data):
        raise APIResponseValidationError(f"expected a model list `{{data: [{{id, ...}}]}}`, got {str(body)[:200]!r}")
    models = []
    for entry in data:
        server = _server_of(entry)
        limits: dict[str, Any] = {}
        capabilities: dict[str, Any] = {}
        if server == "vllm":
            limits["max_total_tokens"] = _int(entry.get("max_model_len"))
        elif server == "llama.cpp":
            meta = entry.get("meta")
            limits["max_total_tokens"] = _int(meta.get("n_ctx_train")) if isinstance(meta, Mapping) else None
            if isinstance(props, Mapping):
                props_limits, capabilities = _from_props(props)
                limits.update({k: v for k, v in props_limits.items() if v is not None})
        limits.update(_own(entry, "limits", LIMITS))
        capabilities.update(_own(entry, "capabilities", CAPABILITIES))
        owned = entry.get("owned_by")
        models.append(
            _model(
                entry["id"],
                owned if isinstance(owned, str) else server,
                server,
                limits,
                capabilities,
                entry.get("created"),
            )
        )
    return models


def models_list(models: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenAI's list shape."""
    return {"object": "list", "data": models}


def models_flow(routes: ModelRoutes) -> Generator[HTTPCall, Reply, list[dict[str, Any]]]:
    """Ask the server what it serves: yields each request, is sent its reply (or thrown its status error).

    A server root is asked `/info` first; one without it (404) is asked `/v1/models`. A llama.cpp list is
    completed by `/props` when the server answers it.
    """
    if routes.info is not None:
        try:
            info = yield HTTPCall("GET", routes.info)
        except NotFoundError:
            pass
        else:
            return [model_from_info(info.body)]
    if routes.models is None:
        raise InvalidParameterError("has no model list (no /info and no /v1/models)", param="base_url")
    listed = yield HTTPCall("GET", routes.models)
    props: object = None
    if routes.props is not None and wants_props(listed.body):
        try:
            props = (yield HTTPCall("GET", routes.props)).body
        except APIStatusError:
            props = None  # an older llama.cpp without /props: the list alone
    return models_from_list(listed.body, props)


def find_model(models: list[dict[str, Any]], model_id: str) -> dict[str, Any] | None:
    """The model with this id (the `:provider` suffix of a router id ignored), or None."""
    wanted = {model_id, model_id.split(":")[0]}
    return next((m for m in models if m["id"] in wanted), None)
