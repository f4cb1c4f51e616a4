"""Loading the models and running uvicorn.

Everything loads before the socket opens, so a model that fails to load stops the start-up and nothing runs
half-configured. Once listening, one line is printed to stdout (the ready line that `easyllm.serve.testing`
waits for). uvicorn handles SIGINT and SIGTERM: it stops accepting, lets running requests finish (up to a grace
period), then the model workers stop.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from easyllm.serve.app import ServerState, Service, build_app
from easyllm.serve.config import ServeConfig
from easyllm.serve.config_file import ResolvedModel
from easyllm.serve.services import EmbeddingService, GenerationService, Metrics

logger = logging.getLogger(__name__)

READY_PREFIX = "easyllm serve: listening on "


def load_models(config: ServeConfig, models: Sequence[ResolvedModel]) -> ServerState:
    """Load every model and start its worker.

    Args:
        config: The config.
        models: The located models, in config order.

    Returns:
        The server state.
    """
    metrics = Metrics()
    services: dict[str, Service] = {}
    for resolved in models:
        services[resolved.config.name] = _load(resolved, metrics)
    for service in services.values():
        service.worker.start()
    return ServerState(config, services, metrics)


def _load(resolved: ResolvedModel, metrics: Metrics) -> Service:
    config = resolved.config
    if config.task == "embedding":
        from easyllm.serve.engines.embedding import SentenceTransformerModel

        return EmbeddingService(config, SentenceTransformerModel(resolved.path), metrics)
    if config.task in ("rerank", "classification"):
        from easyllm.serve.engines.scoring import load_scoring_model
        from easyllm.serve.scoring_service import ScoringService

        return ScoringService(config, load_scoring_model(config.task, resolved.path, config.labels), metrics)
    from easyllm.serve.engines.loading import load_generation_model

    settled, model = load_generation_model(config, resolved.path)
    return GenerationService(settled, model, metrics)


def bind_socket(host: str, port: int) -> socket.socket:
    """Open the listening socket (port 0 picks a free port).

    Args:
        host: The address.
        port: The port, or 0.

    Returns:
        The bound socket.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(state: ServerState, host: str, port: int, *, log_level: str = "warning") -> None:
    """Serve until SIGINT or SIGTERM, then stop the workers.

    Args:
        state: The loaded models.
        host: The address to bind.
        port: The port (0 for a free one).
        log_level: uvicorn's log level.
    """
    import uvicorn

    sock = bind_socket(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    ready = f"{READY_PREFIX}http://{shown}:{bound} (models: {', '.join(state.services)})"
    config = uvicorn.Config(
        build_app(state), log_level=log_level, timeout_graceful_shutdown=5, access_log=log_level == "debug"
    )
    server = _ReadyServer(config, ready)
    try:
        server.run(sockets=[sock])
    finally:
        for service in state.services.values():
            service.worker.stop(timeout=5)
        sock.close()


class _ReadyServer:
    """uvicorn's Server, printing the ready line once it listens."""

    def __init__(self, config: Any, ready: str) -> None:
        import uvicorn

        ready_line = ready

        class Server(uvicorn.Server):
            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=sockets)
                if self.started:
                    print(ready_line, flush=True)

            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                # Like uvicorn's, but without re-raising the signal afterwards: a graceful stop exits with 0
                # and lets the workers be stopped.
                if threading.current_thread() is not threading.main_thread():
                    yield
                    return
                previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
                try:
                    yield
                finally:
                    for sig, handler in previous.items():
                        signal.signal(sig, handler)

        self._server = Server(config)

    def run(self, sockets: list[socket.socket]) -> None:
        self._server.run(sockets=sockets)
