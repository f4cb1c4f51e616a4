"""Call-time configuration: one resolved `Settings` per call, never read at import.

Precedence, highest first:

- `api_key`: the call's argument, the module setting, `HUGGINGFACE_TOKEN`, `HF_TOKEN`, the Hugging Face CLI
  login (`huggingface_hub.get_token()`); none at all is fine for local servers.
- `api_base`: the call's argument, the module setting, `HUGGINGFACE_API_BASE`, the Inference Providers router
  (`https://router.huggingface.co/v1`). The retired serverless host (`https://api-inference.huggingface.co`,
  which answers 410 Gone) is rewritten to the router's `hf-inference` provider, with one warning in the log. A
  list of URLs or an `easyllm.EndpointPool` spreads the calls over several servers (`easyllm.endpoints`).
- `timeout`, `max_retries`: the call's argument, the module setting, the defaults below.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from easyllm.environ import env
from easyllm.errors import InvalidParameterError

if TYPE_CHECKING:
    from easyllm.endpoints import EndpointPool

__all__ = ["DEFAULT_API_BASE", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "RETIRED_HOST", "Settings", "resolve_settings"]

DEFAULT_API_BASE = "https://router.huggingface.co/v1"
#: The retired serverless host and where its routes live now (the router's hf-inference provider).
RETIRED_HOST = "https://api-inference.huggingface.co"
RETIRED_HOST_NOW = "https://router.huggingface.co/hf-inference"

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Settings:
    """Everything a call needs to know about where and how to send.

    The token is kept out of `repr()` so it cannot leak into logs or tracebacks. With several endpoints, `pool`
    holds them and `api_base` is the first one: requests are planned against it and rebased per attempt.
    """

    api_base: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    pool: EndpointPool | None = None

    @property
    def origin(self) -> str:
        """Scheme, host and port of `api_base`: the key of the connection pool."""
        return _origin(self.api_base)


@lru_cache(maxsize=64)
def _origin(api_base: str) -> str:
    """The origin of a base URL; asked on every call, so remembered per URL."""
    parts = urlsplit(api_base)
    return f"{parts.scheme}://{parts.netloc}"


#: How long a CLI-login token is trusted while its file is unchanged, so that huggingface_hub can still refresh an
#: OAuth token close to expiry (it does so a day ahead) in a long-running process.
_LOGIN_TOKEN_TTL = 60.0
#: A token file younger than this is read again on the next call (file systems' mtime ticks can be this coarse).
_RACY_SECONDS = 2.0

_hub: tuple[Callable[[], str | None], Any] | None = None  # (huggingface_hub.get_token, huggingface_hub.constants)
# ((token file, its stat, HUGGING_FACE_HUB_TOKEN), trusted until (monotonic), the token)
_login_cache: tuple[tuple[object, ...], float, str | None] | None = None


def _login_token() -> str | None:
    """The Hugging Face CLI login (`huggingface_hub.get_token()`), read again whenever what it reads changes.

    The token file is not read on every call: its answer is kept while the file's path and stat (mtime, size,
    inode) and `HUGGING_FACE_HUB_TOKEN` stay the same, for at most `_LOGIN_TOKEN_TTL` seconds, and only once the
    file is older than `_RACY_SECONDS`. A new, changed or removed token file is picked up by the next call. With
    `HF_OIDC_RESOURCE` (CI trusted publishing) every call asks huggingface_hub, which keeps its own expiry cache.
    """
    global _hub, _login_cache
    if _hub is None:  # deferred: a heavy import, needed only without a token; looked up once
        from huggingface_hub import constants, get_token

        _hub = (get_token, constants)
    get_token, constants = _hub
    if env("HF_OIDC_RESOURCE"):
        return get_token()
    path = constants.HF_TOKEN_PATH
    try:
        # `os.access` answers a missing file without raising (an exception costs more than the whole check).
        st = os.stat(path) if os.access(path, os.F_OK) else None
    except OSError:  # removed in between
        st = None
    if st is not None:
        stat: tuple[int, ...] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        # A file written in the last moments could be rewritten within the same mtime tick (coarse on many file
        # systems) without its stat changing: its answer is not kept until it has aged ("racy git" rule).
        settled = time.time() - st.st_mtime > _RACY_SECONDS
    else:
        stat, settled = None, True
    key = (path, stat, env("HUGGING_FACE_HUB_TOKEN"))
    now = time.monotonic()
    cached = _login_cache
    if cached is not None and cached[0] == key and now < cached[1]:
        return cached[2]
    token = get_token()
    _login_cache = (key, now + _LOGIN_TOKEN_TTL, token) if settled else None
    return token


def _token_from_environment() -> str | None:
    for name in ("HUGGINGFACE_TOKEN", "HF_TOKEN"):
        value = env(name)
        if value:
            return value
    return _login_token()


_warned_retired = False


def _rewrite_retired(api_base: str) -> str:
    """`api-inference.huggingface.co/...` → `router.huggingface.co/hf-inference/...` (warned once per process)."""
    global _warned_retired
    if not api_base.lower().startswith(RETIRED_HOST):
        return api_base
    rewritten = RETIRED_HOST_NOW + api_base[len(RETIRED_HOST) :]
    if not _warned_retired:
        _warned_retired = True
        logger.warning(
            "api-inference.huggingface.co is retired (410 Gone); sending to %s instead. Set api_base (or "
            "HUGGINGFACE_API_BASE) to it, or leave it unset to use the Inference Providers router.",
            rewritten,
        )
    return rewritten


def _check_base(api_base: str) -> str:
    parts = urlsplit(api_base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidParameterError(
            f"must be an http(s) URL such as http://127.0.0.1:8080, got {api_base!r}", param="api_base"
        )
    return _rewrite_retired(api_base.rstrip("/"))


def _first(*values: object) -> object:
    for value in values:
        if value is not None:
            return value
    return None


def resolve_settings(
    *,
    api_key: str | None = None,
    api_base: str | Sequence[str] | EndpointPool | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    module_api_key: str | None = None,
    module_api_base: str | Sequence[str] | EndpointPool | None = None,
    module_timeout: float | None = None,
    module_max_retries: int | None = None,
) -> Settings:
    """Resolve the settings of one call (arguments first, then module settings, then the environment).

    Example:
        >>> resolve_settings(api_base="http://127.0.0.1:8080/", api_key="x").api_base
        'http://127.0.0.1:8080'
    """
    environ_base = env("HUGGINGFACE_API_BASE") or None
    base = _first(api_base, module_api_base, environ_base, DEFAULT_API_BASE)
    key = _first(api_key, module_api_key) or _token_from_environment()
    timeout_value = _first(timeout, module_timeout, DEFAULT_TIMEOUT)
    retries = _first(max_retries, module_max_retries, DEFAULT_MAX_RETRIES)
    if isinstance(timeout_value, bool) or not isinstance(timeout_value, int | float) or timeout_value <= 0:
        raise InvalidParameterError(f"must be a positive number of seconds, got {timeout_value!r}", param="timeout")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidParameterError(f"must be a whole number >= 0, got {retries!r}", param="max_retries")
    if key is not None and not isinstance(key, str):
        raise InvalidParameterError("must be a string", param="api_key")
    pool = None
    if not isinstance(base, str):  # several endpoints: a list of URLs or an EndpointPool
        from easyllm.endpoints import pool_of

        pool = pool_of(base)  # type: ignore[arg-type]
        base = pool.first
    return _settings(str(base), key or None, float(timeout_value), retries, pool)


@lru_cache(maxsize=64)
def _settings(base: str, key: str | None, timeout: float, retries: int, pool: EndpointPool | None) -> Settings:
    """The `Settings` for checked values; remembered, since most calls resolve to the same few (they are frozen)."""
    return Settings(
        api_base=_check_base(base),
        api_key=key,
        timeout=timeout,
        max_retries=retries,
        connect_timeout=min(DEFAULT_CONNECT_TIMEOUT, timeout),
        pool=pool if pool is not None and len(pool) > 1 else None,
    )
