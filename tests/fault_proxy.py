"""A TCP fault proxy between the API and an AWS endpoint: pass, hang, reset or slow, switchable at any time.

Used by the fault tests and by benchmarks/faults.py. A mode applies to new and open connections alike, so a
warm API's pooled keep-alive connections see the fault too:

- pass: bytes flow both ways;
- hang: connections are accepted and held open, nothing is forwarded or answered (what a stuck endpoint
  or a black-holed network looks like to a client);
- reset: connections are closed with a TCP RST (SO_LINGER 0) as soon as anything moves;
- slow: each chunk from the endpoint is delayed by `slow_ms`.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Literal

__all__ = ["FaultProxy", "Mode"]

Mode = Literal["pass", "hang", "reset", "slow"]
_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """Listens on 127.0.0.1:<port> and relays to `target` according to `mode`."""

    def __init__(self, target_host: str, target_port: int, mode: Mode = "pass", slow_ms: int = 1500) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = mode
        self.slow_ms = slow_ms
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "reset":
            with self._lock:
                held = list(self._open)
            for sock in held:
                _reset(sock)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                self._open.discard(sock)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        while self.mode == "hang" and not self._stop.is_set():
            time.sleep(0.05)  # accepted, never answered; the endpoint is reached only when it clears
        if self.mode == "reset":
            self._forget(client)
            _reset(client)
            return
        upstream: socket.socket | None = None
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            self._forget(client)
            _reset(client)
            return
        self._track(upstream)
        threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()
        self._pump(client, upstream, False)

    def _pump(self, source: socket.socket, sink: socket.socket, from_endpoint: bool) -> None:
        try:
            while not self._stop.is_set():
                data = source.recv(_CHUNK)
                if not data:
                    break
                while self.mode == "hang" and not self._stop.is_set():
                    time.sleep(0.05)  # hold the bytes: the peer waits, the connection stays open
                if self.mode == "reset":
                    break
                if self.mode == "slow" and from_endpoint:
                    time.sleep(self.slow_ms / 1000.0)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._forget(source, sink)
            if self.mode == "reset":
                _reset(source)
                _reset(sink)
            else:
                for sock in (source, sink):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    with contextlib.suppress(OSError):
                        sock.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        with self._lock:
            held = list(self._open)
            self._open.clear()
        for sock in held:
            with contextlib.suppress(OSError):
                sock.close()
        self._listener.close()
