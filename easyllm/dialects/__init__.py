"""Server dialects: one module per kind of server, one table, one rule for choosing (pure).

| name | server | recognised by |
|---|---|---|
| `router` | the Inference Providers router (the default `api_base`) | host `router.huggingface.co`, path `…/v1` |
| `hf-inference` | the router's hf-inference provider; any `…/models` collection | path `…/models` |
| `tgi` | Text Generation Inference (native and Messages API) | `GET /info` with `max_total_tokens`; other roots |
| `tei` | Text Embeddings Inference | `GET /info` with `model_type` |
| `vllm` | vLLM | `GET /version` |
| `sglang` | SGLang | `GET /get_model_info` |
| `llama.cpp` | llama.cpp's `llama-server` | `GET /props` |
| `llama-cpp-python` | llama-cpp-python's server | `engine="llama-cpp-python"` only |
| `openai` | any other OpenAI-compatible server | path `…/v1` |

`choose` picks a dialect from the base URL, `engine=` and what probing learned about the server; the shells
(`easyllm.probing`) probe a server at most once, and only where the answer changes the request
(`needs_probe`). Adding a server kind: a module with a `Dialect` subclass and a row in `DIALECTS`.

Example:
    >>> from easyllm.settings import Settings
    >>> choose(Settings(api_base="https://router.huggingface.co/v1"), "auto").name
    'router'
    >>> choose(Settings(api_base="http://127.0.0.1:8000/v1"), "auto", learned="vllm").name
    'vllm'
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from easyllm.dialects.base import ChatCall, Dialect, EmbedCall, Probe, TextCall
from easyllm.dialects.hf_inference import HFInference
from easyllm.dialects.llamacpp import LlamaCpp, LlamaCppPython
from easyllm.dialects.openai import OpenAICompatible
from easyllm.dialects.paths import host, is_collection, is_v1, server_root
from easyllm.dialects.router import ROUTER_BASE, ROUTER_HOST, Router
from easyllm.dialects.sglang import SGLang
from easyllm.dialects.tei import TEI
from easyllm.dialects.tgi import TGI
from easyllm.dialects.vllm import VLLM
from easyllm.errors import InvalidParameterError
from easyllm.protocol.extras import Extras

if TYPE_CHECKING:
    from easyllm.settings import Settings

__all__ = [
    "DIALECTS",
    "ENGINES",
    "ROUTER_BASE",
    "ChatCall",
    "Dialect",
    "EmbedCall",
    "Extras",
    "Probe",
    "TextCall",
    "check_engine",
    "check_model",
    "choose",
    "needs_probe",
    "probes",
    "resolve_engine",
]

#: Every dialect by name. Probes are tried in this order (TEI before TGI: both answer `/info`).
DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Router(),
        HFInference(),
        TEI(),
        TGI(),
        SGLang(),
        LlamaCpp(),
        VLLM(),
        LlamaCppPython(),
        OpenAICompatible(),
    )
}

#: What `engine=` accepts: `auto` (detect) or a dialect's name.
ENGINES = ("auto", *DIALECTS)


def check_engine(engine: object) -> str:
    """`engine` if it names a dialect (or `auto`); refused before sending otherwise, listing the names."""
    if engine not in ENGINES:
        raise InvalidParameterError(f"must be one of {', '.join(ENGINES)}; got {engine!r}", param="engine")
    return str(engine)


def resolve_engine(*choices: object) -> str:
    """The first engine given (a call's, then its client's or the module's), checked; `auto` when none is.

    The pre-dialect `protocol=` values (`auto`, `tgi`, `openai`) are engine names too.

    Example:
        >>> resolve_engine(None, "vllm", "auto")
        'vllm'
    """
    for choice in choices:
        if choice is not None:
            return check_engine(choice)
    return "auto"


@lru_cache(maxsize=256)
def _by_url(api_base: str) -> Dialect | None:
    """The dialect the URL alone tells, or None when the server must say (or the generic default holds)."""
    if host(api_base) == ROUTER_HOST and not is_collection(api_base):
        return DIALECTS["router"]
    if is_collection(api_base):
        return DIALECTS["hf-inference"]
    return None


def choose(settings: Settings, engine: str, learned: str | None = None) -> Dialect:
    """The dialect for a call: `engine=` when set, else the URL, else what probing learned, else the default.

    The default is `openai` for a `…/v1` base and `tgi` for a server's own root.
    """
    if check_engine(engine) != "auto":
        return DIALECTS[engine]
    known = _by_url(settings.api_base)
    if known is not None:
        return known
    if learned is not None:
        return DIALECTS[learned]
    return _default(settings.api_base)


@lru_cache(maxsize=256)
def _default(api_base: str) -> Dialect:
    return DIALECTS["openai" if is_v1(api_base) else "tgi"]


def check_model(settings: Settings, engine: str, model: object) -> str | None:
    """Refuse a `model` that cannot name a model where this call goes, before anything is sent.

    The rule comes from what the URL and `engine=` say (never from probing, so it holds before any request):
    a Hub id on Hugging Face servers (the router, hf-inference and other collections, TGI, TEI), a free-form
    served name on other OpenAI-compatible servers (`easyllm.protocol.model_ids`).

    Example:
        >>> from easyllm.settings import Settings
        >>> check_model(Settings(api_base="https://router.huggingface.co/v1"), "auto", "org/name:fastest")
        'org/name:fastest'
        >>> check_model(Settings(api_base="http://127.0.0.1:8000/v1"), "auto", "/models/Llama 3 (local)")
        '/models/Llama 3 (local)'
    """
    return choose(settings, engine).check_model(model)


def needs_probe(settings: Settings, engine: str, purpose: str) -> bool:
    """Whether the server's kind changes the request (so the shells should probe it once).

    - `embeddings` at a server's root: TEI's `/embed`, or the URL itself for other servers;
    - `structured` (a call with `response_format`) at a `…/v1` base: each engine has its own form.
    """
    if engine != "auto" or _by_url(settings.api_base) is not None:
        return False
    if purpose == "embeddings":
        return not is_v1(settings.api_base)
    return purpose == "structured" and is_v1(settings.api_base)


def probes(settings: Settings, purpose: str) -> list[tuple[str, str, Probe]]:
    """(dialect name, URL, probe) to try in order; for `embeddings` only `/info` (TEI or not is what matters).

    Several dialects may share a route (TEI and TGI both answer `/info`): the shells ask each URL once.
    """
    root = server_root(settings.api_base)
    return [
        (d.name, f"{root}{d.probe.path}", d.probe)
        for d in DIALECTS.values()
        if d.probe is not None and (purpose != "embeddings" or d.probe.path == "/info")
    ]
