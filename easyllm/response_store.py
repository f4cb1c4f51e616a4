"""Where easyllm keeps the responses it translated, so `previous_response_id` works on any server.

A server without the Responses API keeps nothing between calls, so the client does: each stored response keeps
the response itself and the conversation that led to it (earlier items, that call's input, its output), which is
what a later call with `previous_response_id` continues. Two stores:

- `MemoryStore` (the default): in this process, the most recent `max_responses` (1000) kept, the oldest dropped;
- `SQLiteStore`: a file (the standard library's sqlite3), shared by processes and kept across runs.

Any object with `get`, `put` and `delete` (the `ResponseStore` protocol) may be given as `response_store=` instead.

Example:
    >>> store = MemoryStore(max_responses=2)
    >>> store.put(StoredResponse({"id": "resp_1"}, []))
    >>> store.get("resp_1").response["id"], store.delete("resp_1"), store.get("resp_1")
    ('resp_1', True, None)
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from easyllm.errors import InvalidParameterError

__all__ = ["MemoryStore", "ResponseStore", "SQLiteStore", "StoredResponse", "open_store"]

DEFAULT_MAX_RESPONSES = 1000


@dataclass(frozen=True)
class StoredResponse:
    """One stored response.

    Attributes:
        response: the `Response` as a JSON-ready dict.
        items: the conversation up to and including this response's output, as Responses input items.
    """

    response: dict[str, Any]
    items: list[dict[str, Any]]

    @property
    def id(self) -> str:
        """The response's id."""
        return str(self.response["id"])


@runtime_checkable
class ResponseStore(Protocol):
    """What a response store does."""

    def get(self, response_id: str) -> StoredResponse | None:
        """The stored response, or None."""
        ...

    def put(self, record: StoredResponse) -> None:
        """Store (or replace) a response."""
        ...

    def delete(self, response_id: str) -> bool:
        """Forget a response; True when it was stored."""
        ...


class MemoryStore:
    """Responses in this process's memory: the most recent `max_responses` kept (thread-safe)."""

    def __init__(self, max_responses: int = DEFAULT_MAX_RESPONSES) -> None:
        if isinstance(max_responses, bool) or not isinstance(max_responses, int) or max_responses < 1:
            raise InvalidParameterError("must be a positive integer", param="max_responses")
        self.max_responses = max_responses
        self._records: OrderedDict[str, StoredResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, response_id: str) -> StoredResponse | None:
        """The stored response, or None."""
        with self._lock:
            return self._records.get(response_id)

    def put(self, record: StoredResponse) -> None:
        """Store a response; the oldest is dropped once `max_responses` are kept."""
        with self._lock:
            self._records[record.id] = record
            self._records.move_to_end(record.id)
            while len(self._records) > self.max_responses:
                self._records.popitem(last=False)

    def delete(self, response_id: str) -> bool:
        """Forget a response; True when it was stored."""
        with self._lock:
            return self._records.pop(response_id, None) is not None

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"MemoryStore(max_responses={self.max_responses}, stored={len(self)})"


class SQLiteStore:
    """Responses in an SQLite file (created when missing).

    Each call opens its own connection, so threads and processes may share the file (SQLite does the locking).
    """

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, stored_at REAL NOT NULL, "
        "response TEXT NOT NULL, items TEXT NOT NULL)"
    )

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        with closing(self._connect()) as connection, connection:
            connection.execute(self._SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=self.timeout)

    def get(self, response_id: str) -> StoredResponse | None:
        """The stored response, or None."""
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT response, items FROM responses WHERE id = ?", (response_id,)).fetchone()
        return None if row is None else StoredResponse(json.loads(row[0]), json.loads(row[1]))

    def put(self, record: StoredResponse) -> None:
        """Store (or replace) a response."""
        row = (record.id, time.time(), json.dumps(record.response), json.dumps(record.items))
        with closing(self._connect()) as connection, connection:
            connection.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", row)

    def delete(self, response_id: str) -> bool:
        """Forget a response; True when it was stored."""
        with closing(self._connect()) as connection, connection:
            return connection.execute("DELETE FROM responses WHERE id = ?", (response_id,)).rowcount > 0

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


def open_store(spec: ResponseStore | str | os.PathLike[str] | None) -> ResponseStore:
    """The store for a client's `response_store=`: None for a new `MemoryStore`, a path for an `SQLiteStore`.

    Raises:
        InvalidParameterError: `spec` is none of these.
    """
    if spec is None:
        return MemoryStore()
    if isinstance(spec, str | os.PathLike):
        return SQLiteStore(spec)
    if isinstance(spec, ResponseStore):
        return spec
    raise InvalidParameterError("must be None, a file path, or an object with get/put/delete", param="response_store")
