"""TEI's routes, and the Inference API's feature-extraction.

TEI: `POST /embed`, `/v1/embeddings` (and `/embeddings`), `GET /info`. Inference API: `POST /models/{name}`
and `/pipeline/feature-extraction/{name}` for embedding models.

Validation errors answer TEI's body `{"error", "error_type": "Validation"}` with status **413**, the behaviour of
TEI up to v1.8 (v1.9 moved to 422; clients must accept both). An empty input answers 400 `Empty`, as TEI v1.6+.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from easyllm import __version__
from easyllm.serve.routes.common import FastJSON, read_body, tgi_error
from easyllm.serve.services import EmbeddingService

VALIDATION_STATUS = 413  # TEI <= 1.8; 422 from TEI 1.9

Inputs = str | list[str] | list[int] | list[list[int]]


class EmbedRequest(BaseModel):
    """`POST /embed`."""

    model_config = ConfigDict(extra="ignore")

    inputs: Inputs
    normalize: bool = True
    truncate: bool | None = None
    truncation_direction: Literal["right", "left", "Right", "Left"] = "right"
    prompt_name: str | None = None
    dimensions: int | None = None


class OpenAIEmbedRequest(BaseModel):
    """`POST /v1/embeddings`."""

    model_config = ConfigDict(extra="ignore")

    input: Inputs
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    user: str | None = None


class FeatureExtractionRequest(BaseModel):
    """The Inference API's feature-extraction body."""

    model_config = ConfigDict(extra="ignore")

    inputs: str | list[str]
    normalize: bool | None = None
    truncate: bool | None = None
    prompt_name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)


class EmbedError(Exception):
    """A refused embedding request: TEI's variant name, status and message."""

    def __init__(self, message: str, error_type: str = "Validation", status: int = VALIDATION_STATUS) -> None:
        """Keep the details.

        Args:
            message: The message.
            error_type: TEI's variant name.
            status: The HTTP status.
        """
        super().__init__(message)
        self.error_type = error_type
        self.status = status


class BatchTooLarge(EmbedError):
    """More inputs than `max_client_batch_size` (TEI's words, so a client can learn the limit from them)."""


def _texts(inputs: Inputs) -> list[str]:
    if isinstance(inputs, str):
        return [inputs]
    if inputs and not all(isinstance(item, str) for item in inputs):
        raise EmbedError("token id inputs are not supported by this server; send text")
    return [str(item) for item in inputs]


async def _embed(
    service: EmbeddingService, inputs: Inputs, *, normalize: bool, truncate: bool | None,
    prompt_name: str | None = None, dimensions: int | None = None,
) -> tuple[npt.NDArray[np.float32], list[int], dict[str, str]]:  # fmt: skip
    """Validate and embed; return the vectors, the token count of each input, and TEI's headers."""
    started = time.perf_counter()
    texts = _texts(inputs)
    if not texts or any(t == "" for t in texts):
        raise EmbedError("`inputs` cannot be empty", "Empty", 400)
    limit = service.config.batch_limit
    if len(texts) > limit:
        raise BatchTooLarge(f"batch size {len(texts)} > maximum allowed batch size {limit}")
    _check_options(service, prompt_name, dimensions)
    counts = await service.count_tokens(texts)
    max_length = service.model.max_input_length
    auto = service.config.auto_truncate if truncate is None else truncate
    if not auto and max(counts) > max_length:
        raise EmbedError(f"`inputs` must have less than {max_length} tokens. Given: {max(counts)}")
    timed = await service.embed(texts, normalize=normalize and not dimensions, prompt_name=prompt_name)
    vectors = _matryoshka(timed.value, dimensions, normalize)
    used = [min(c, max_length) for c in counts]
    headers = _headers(texts, used, timed.queue_time, timed.inference_time, time.perf_counter() - started)
    return vectors, used, headers


def _check_options(service: EmbeddingService, prompt_name: str | None, dimensions: int | None) -> None:
    prompts: dict[str, str] = getattr(service.model, "prompts", {})
    if prompt_name is not None and prompt_name not in prompts:
        known = ", ".join(sorted(prompts)) or "none"
        raise EmbedError(f"`prompt_name` {prompt_name!r} is not a prompt of this model (known: {known})")
    if dimensions is not None and not 0 < dimensions <= service.model.dimension:
        raise EmbedError(f"`dimensions` must be > 0 and <= {service.model.dimension}. Given: {dimensions}")


def _matryoshka(vectors: npt.NDArray[np.float32], dimensions: int | None, normalize: bool) -> npt.NDArray[np.float32]:
    if not dimensions:
        return vectors
    cut = vectors[:, :dimensions].astype(np.float32)
    if normalize:
        norms = np.linalg.norm(cut, axis=1, keepdims=True)
        cut = (cut / np.where(norms == 0, 1, norms)).astype(np.float32)
    return cut


def _headers(texts: list[str], tokens: list[int], queue: float, inference: float, total: float) -> dict[str, str]:
    return {
        "x-compute-type": "cpu",
        "x-compute-characters": str(sum(len(t) for t in texts)),
        "x-compute-tokens": str(sum(tokens)),
        "x-total-time": str(round(total * 1000)),
        "x-tokenization-time": "0",
        "x-queue-time": str(round(queue * 1000)),
        "x-inference-time": str(round(inference * 1000)),
    }


async def embed(request: Request, service: EmbeddingService) -> Response:
    """`POST /embed`: one vector per input, always a list of lists."""
    body = await read_body(request, EmbedRequest)
    if body.truncation_direction.lower() == "left":
        return tgi_error("`truncation_direction` left is not supported by this server", "Validation", 413)
    try:
        vectors, _, headers = await _embed(
            service, body.inputs, normalize=body.normalize, truncate=body.truncate,
            prompt_name=body.prompt_name, dimensions=body.dimensions,
        )  # fmt: skip
    except EmbedError as err:
        return tgi_error(str(err), err.error_type, err.status)
    return FastJSON(vectors.tolist(), headers=headers)


async def openai_embeddings(request: Request, service: EmbeddingService) -> Response:
    """`POST /v1/embeddings`: OpenAI's shape; errors are TEI's `{"message", "code", "type"}`."""
    body = await read_body(request, OpenAIEmbedRequest)
    try:
        vectors, counts, headers = await _embed(
            service, body.input, normalize=True, truncate=None, dimensions=body.dimensions
        )
    except EmbedError as err:
        return JSONResponse({"message": str(err), "code": err.status, "type": err.error_type}, err.status)
    data = [
        {"object": "embedding", "embedding": _encode(vector, body.encoding_format), "index": index}
        for index, vector in enumerate(vectors)
    ]
    usage = {"prompt_tokens": sum(counts), "total_tokens": sum(counts)}
    answer = {"object": "list", "data": data, "model": service.config.name, "usage": usage}
    return FastJSON(answer, headers=headers)


def _encode(vector: npt.NDArray[np.float32], encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    values: list[float] = vector.tolist()
    return values


async def feature_extraction(request: Request, service: EmbeddingService) -> Response:
    """The Inference API's feature-extraction: a vector for a string, a list of vectors for a list.

    At most `max_client_batch_size` inputs, as the `/info` beside it says.
    """
    body = await read_body(request, FeatureExtractionRequest)
    normalize = body.normalize if body.normalize is not None else bool(getattr(service.model, "normalizes", True))
    try:
        vectors, _, headers = await _embed(
            service, body.inputs, normalize=normalize, truncate=body.truncate,
            prompt_name=body.prompt_name,
        )  # fmt: skip
    except EmbedError as err:  # a batch over the limit answers 413, as TEI does: clients split the batch on it
        return JSONResponse({"error": str(err)}, status_code=err.status if isinstance(err, BatchTooLarge) else 400)
    values = vectors.tolist()
    return FastJSON(values[0] if isinstance(body.inputs, str) else values, headers=headers)


def info_json(service: EmbeddingService) -> dict[str, Any]:
    """TEI's `/info`.

    Args:
        service: The model.

    Returns:
        The JSON object.
    """
    config = service.config
    return {
        "model_id": config.served_model_id,
        "model_sha": None,
        "model_dtype": "float32",
        "served_model_name": config.name,
        "model_type": {"embedding": {"pooling": getattr(service.model, "pooling", "mean")}},
        "max_concurrent_requests": 512,
        "max_input_length": service.model.max_input_length,
        "max_batch_tokens": 16384,
        "max_batch_requests": None,
        "max_client_batch_size": config.batch_limit,
        "auto_truncate": config.auto_truncate,
        "tokenization_workers": 1,
        "version": __version__,
        "sha": None,
        "docker_label": None,
    }


async def info(request: Request, service: EmbeddingService) -> Response:
    """`GET /info` for an embedding model."""
    return FastJSON(info_json(service))
