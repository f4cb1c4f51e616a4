"""`Cache`: answers kept on disk, shared by every process that opens the same folder.

Turn it on with `cache=` on a call, on a client (`HuggingFace(cache=...)`) or on the module
(`huggingface.cache`); it is off by default. The value is one of:

- `True`: the default folder, `$EASYLLM_CACHE_DIR`, else `$XDG_CACHE_HOME/easyllm` (`~/.cache/easyllm` when
  `XDG_CACHE_HOME` is unset: beside huggingface_hub's `~/.cache/huggingface`, never inside it);
- `"always"`: the default folder, and chat/text completions are cached even when they are not reproducible;
- a folder path (`str` or `pathlib.Path`);
- a `Cache(path, max_size=..., ttl=..., completions=...)`;
- `False` (or None): no cache, e.g. to turn a client's cache off for one call.

It is built on diskcache (SQLite and files, safe across threads and processes), with values stored as JSON text
(nothing is ever unpickled: an entry that is not JSON text reads as a miss). Keys are SHA-256 digests of the
canonical request (`easyllm.protocol.caching`); the token is never part of a key or a value. What is cached:
embeddings per input text; chat and text completions when reproducible (greedy or with a fixed `seed`), or always
with `completions="always"`.

Example:
    >>> import easyllm
    >>> cache = easyllm.Cache("/tmp/easyllm-answers", max_size=2**30, ttl=7 * 24 * 3600)  # doctest: +SKIP
    >>> client = easyllm.HuggingFace(base_url="http://127.0.0.1:8000/v1", cache=cache)  # doctest: +SKIP
    >>> cache.stats  # doctest: +SKIP
    CacheStats(hits=0, misses=0)
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeAlias

from easyllm.errors import InvalidParameterError

__all__ = ["DEFAULT_MAX_SIZE", "Cache", "CacheSpec", "CacheStats", "default_cache_dir", "resolve_cache"]

#: The default size bound: 1 GiB (least recently stored entries are dropped beyond it).
DEFAULT_MAX_SIZE = 2**30

Completions = Literal["reproducible", "always"]


class CacheStats(NamedTuple):
    """Lookups answered from the cache (`hits`) and not (`misses`) through this `Cache` object."""

    hits: int
    misses: int


def default_cache_dir() -> Path:
    """`$EASYLLM_CACHE_DIR`, else `$XDG_CACHE_HOME/easyllm`, else `~/.cache/easyllm` (read at each call)."""
    chosen = os.environ.get("EASYLLM_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "easyllm"


class Cache:
    """An on-disk cache of answers, shared by threads and processes (diskcache underneath).

    Args:
        path: the folder (created when first used); None for `default_cache_dir()`.
        max_size: most bytes on disk (default 1 GiB); the least recently stored entries go first beyond it.
        ttl: seconds an entry lives (None: until evicted or cleared).
        completions: `"reproducible"` (default) caches chat and text completions only when greedy
            (`temperature=0` or `top_p=0`) or seeded; `"always"` caches every one (a re-run then gets the first
            sample again).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        ttl: float | None = None,
        completions: Completions = "reproducible",
    ) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise InvalidParameterError(f"must be a whole number of bytes >= 1, got {max_size!r}", param="max_size")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0):
            raise InvalidParameterError(f"must be a positive number of seconds, got {ttl!r}", param="ttl")
        if completions not in ("reproducible", "always"):
            raise InvalidParameterError(f"must be 'reproducible' or 'always', got {completions!r}", param="completions")
        self.path = Path(path).expanduser() if path is not None else default_cache_dir()
        self.max_size = max_size
        self.ttl = None if ttl is None else float(ttl)
        self.completions: Completions = completions
        self._store: Any = None
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r}, max_size={self.max_size}, ttl={self.ttl}, completions={self.completions!r})"

    def _disk(self) -> Any:
        """The diskcache store, opened on first use (diskcache is imported then, not with easyllm)."""
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    import diskcache

                    # Culling runs once per write batch (`_bound`), not inside every `set`.
                    self._store = diskcache.Cache(
                        str(self.path), size_limit=self.max_size, cull_limit=0, disk=_text_disk()
                    )
                store = self._store
        return store

    def _count(self, hits: int, misses: int) -> None:
        with self._lock:
            self._hits += hits
            self._misses += misses

    def get(self, key: str) -> Any:
        """The value stored under `key`, or None (counted as a hit or a miss)."""
        value = _loads(self._disk().get(key))
        self._count(value is not None, value is None)
        return value

    def get_many(self, keys: Sequence[str]) -> list[Any]:
        """The values stored under `keys` (None where missing), each counted as a hit or a miss."""
        get = self._disk().get
        values = [_loads(get(key)) for key in keys]
        found = sum(value is not None for value in values)
        self._count(found, len(values) - found)
        return values

    def set(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable `value` under `key` (expiring after `ttl`)."""
        store = self._disk()
        store.set(key, json.dumps(value, separators=(",", ":")), expire=self.ttl)
        store.cull()

    def set_many(self, items: Iterable[tuple[str, Any]]) -> None:
        """Store several values in one transaction, then drop expired and (beyond `max_size`) the oldest entries."""
        store = self._disk()
        with store.transact():
            for key, value in items:
                store.set(key, json.dumps(value, separators=(",", ":")), expire=self.ttl)
        store.cull()

    def clear(self) -> None:
        """Remove every entry (of every process using this folder) and reset `stats`."""
        self._disk().clear()
        with self._lock:
            self._hits = self._misses = 0

    @property
    def stats(self) -> CacheStats:
        """Hits and misses of lookups made through this object since it was created or cleared."""
        with self._lock:
            return CacheStats(self._hits, self._misses)

    def __len__(self) -> int:
        return len(self._disk())

    def close(self) -> None:
        """Close the files (the cache opens them again when used)."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()


def _loads(text: object) -> Any:
    """A stored value, or None for a miss or for anything that is not JSON text."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


_disk_class: Any = None


def _text_disk() -> Any:
    """A diskcache `Disk` that keeps strings as they are and never unpickles (a pickled entry reads as a miss)."""
    global _disk_class
    if _disk_class is None:
        import diskcache

        class TextDisk(diskcache.Disk):  # type: ignore[misc]
            def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
                if mode == diskcache.core.MODE_PICKLE:
                    return None
                return super().fetch(mode, filename, value, read)

        _disk_class = TextDisk
    return _disk_class


#: What `cache=` takes (see the module docstring).
CacheSpec: TypeAlias = "bool | str | os.PathLike[str] | Cache | None"

_opened: dict[tuple[str, Completions], Cache] = {}
_opened_lock = threading.Lock()


def _folder(path: str | os.PathLike[str] | None, completions: Completions) -> Cache:
    """One `Cache` per folder and policy in this process, so calls share its counters and connections."""
    folder = Path(path).expanduser() if path is not None else default_cache_dir()
    key = (str(folder.resolve()), completions)
    with _opened_lock:
        cache = _opened.get(key)
        if cache is None:
            cache = _opened[key] = Cache(folder, completions=completions)
        return cache


def resolve_cache(*specs: object) -> Cache | None:
    """The cache of a call: the first spec that is not None (call, then client or module), as a `Cache`.

    Example:
        >>> resolve_cache(None, False) is None
        True
    """
    spec = next((s for s in specs if s is not None), None)
    if spec is None or spec is False:
        return None
    if isinstance(spec, Cache):
        return spec
    if spec is True:
        return _folder(None, "reproducible")
    if spec == "always":
        return _folder(None, "always")
    if isinstance(spec, str | os.PathLike) and str(spec):
        return _folder(spec, "reproducible")
    raise InvalidParameterError(
        f"must be True, 'always', a folder path or an easyllm.Cache, got {spec!r}", param="cache"
    )
