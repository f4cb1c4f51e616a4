"""easyllm's logging: each module logs to `logging.getLogger(__name__)` (children of `easyllm`); output is opt-in.

`EASYLLM_LOG=debug` (or `info`) at call time, or `debug=True` on a call, gives the `easyllm` logger a console
handler (never the root logger). Requests are logged with credentials redacted; prompts only at debug level.
"""

from __future__ import annotations

import logging

from easyllm.environ import env

__all__ = ["apply_log_env", "enable_console_logging", "logger"]

logger = logging.getLogger("easyllm")

_applied: str | None = None


def enable_console_logging(level: int = logging.DEBUG) -> None:
    """Send easyllm's log records to stderr at `level` (adds one handler, once)."""
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    if not any(getattr(h, "_easyllm", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s - %(name)s:%(levelname)s] %(message)s"))
        handler._easyllm = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def apply_log_env() -> None:
    """Honour `EASYLLM_LOG=debug|info`, read when a call is made."""
    global _applied
    value = (env("EASYLLM_LOG") or "").lower()
    if value == _applied or value not in ("debug", "info"):
        return
    _applied = value
    enable_console_logging(logging.DEBUG if value == "debug" else logging.INFO)
