"""The local AWS endpoint: one threaded werkzeug server on loopback for moto and the emulator."""

from __future__ import annotations

import importlib
import logging
import signal
import socket
import threading
from pathlib import Path
from types import FrameType

from werkzeug.serving import BaseWSGIServer, make_server

from local_stack.dispatcher import Dispatcher
from local_stack.moto_patches import apply_moto_patches
from local_stack.personalize import backend as personalize_backend
from local_stack.personalize.wsgi import PersonalizeApp

__all__ = ["DEFAULT_PORT", "LocalStackServer", "build_app", "serve"]

log = logging.getLogger(__name__)
access_log = logging.getLogger("werkzeug")

DEFAULT_PORT = 4566


def build_app(*, debug: bool | None = None) -> Dispatcher:
    """The dispatcher in front of moto's own WSGI app and the Personalize emulator."""
    # Imported here: moto's app pulls in flask and every backend index, slow for `status`/`down`.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    apply_moto_patches()
    _register_cloudformation_resources()
    from local_stack.braze.app import BrazeApp

    return Dispatcher(
        DomainDispatcherApplication(create_backend_app), PersonalizeApp(debug=debug), BrazeApp()
    )


def _register_cloudformation_resources() -> None:
    """Import the AWS::Personalize::* CloudFormation models so moto's stacks can create them.

    moto finds resource types among CloudFormationModel subclasses, so the module only has to be imported
    before the first stack call.
    """
    try:
        importlib.import_module("local_stack.personalize.cloudformation")
    except ImportError as exc:  # the module is optional: stacks then just lack Personalize types
        log.warning("CloudFormation support for Personalize is unavailable: %s", exc)


def _limit_blas_threads() -> None:
    """One BLAS thread per request thread: many threads x a BLAS pool oversubscribe 2 cores badly."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1, user_api="blas")


class LocalStackServer:
    """A started server; `serve_forever` blocks, `shutdown` (any thread) stops it and saves state."""

    def __init__(
        self, port: int, *, host: str = "127.0.0.1", state_dir: Path | None = None, debug: bool | None = None
    ) -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        class Handler(MotoRequestHandler):
            # Keep-alive: SDK clients reuse connections, which matters for throughput.
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without NODELAY, Nagle can hold the body.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                if access_log.isEnabledFor(logging.INFO):
                    super().log_request(code, size)

        _limit_blas_threads()
        self.state_dir = state_dir
        if state_dir is not None:
            loaded = personalize_backend.load_state(state_dir)
            log.info("loaded %d emulator backends from %s", loaded, state_dir)
        self.server: BaseWSGIServer = make_server(
            host, port, build_app(debug=debug), threaded=True, request_handler=Handler
        )
        self.port = int(self.server.server_address[1])
        self._saver: threading.Thread | None = None
        self._stop = threading.Event()

    def serve_forever(self) -> None:
        if self.state_dir is not None:
            self._saver = threading.Thread(target=self._save_loop, name="state-saver", daemon=True)
            self._saver.start()
        try:
            self.server.serve_forever()
        finally:
            self._stop.set()
            if self.state_dir is not None:
                personalize_backend.save_state(self.state_dir)

    def shutdown(self) -> None:
        self.server.shutdown()

    def _save_loop(self) -> None:
        # Persist on change, at most once a second, so a crash loses little.
        assert self.state_dir is not None
        while not self._stop.wait(1.0):
            if personalize_backend.state_changed():
                personalize_backend.save_state(self.state_dir)


def serve(port: int, *, host: str = "127.0.0.1", state_dir: Path | None = None) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; then save emulator state if `state_dir` is set."""
    server = LocalStackServer(port, host=host, state_dir=state_dir)

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to notice, so it must not run on the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"local stack listening on http://{host}:{server.port}", flush=True)
    server.serve_forever()
    print("local stack stopped", flush=True)
