"""How `carte serve` runs uvicorn: the listening socket and the worker processes.

Kept apart from `app/cli.py` on purpose, and light to import: with several workers uvicorn
starts each one by pickling its `Config` into a fresh interpreter, and the worker only
answers the supervisor's health checks once that pickle is loaded, i.e. once the module
defining the config class is imported. When the class lived in `app/cli.py`, that import
pulled in every command (reports, PDF, matplotlib): on a busy 2-CPU machine a worker then
missed the first 5 s health check, was killed and replaced, and the replacement as well,
over and over (bench/limit.sh: 7 workers killed in 20 s, 16 submissions/s instead of ~200;
docs/performance.md, « The write path against its limit »).
"""

from __future__ import annotations

import asyncio
import gc
import socket
from inspect import signature
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Seconds a worker may take to answer the supervisor before it is killed and replaced. The
# default (5 s) is shorter than the app's first import on a loaded 2-CPU machine; a worker
# that truly hangs is still replaced, a little later.
WORKER_HEALTHCHECK_S = 30


class TcpConfig(uvicorn.Config):
    """uvicorn's settings, with a listening socket that keeps TCP_NODELAY on.

    With several workers uvicorn up to 0.54 binds the shared socket itself as
    `socket(family)`, protocol 0, and asyncio only sets TCP_NODELAY on connections accepted
    from a socket whose protocol is TCP: every request after the first on a kept-alive
    connection then waited ~40 ms (Nagle against delayed ACKs; found with bench/load.py,
    docs/performance.md). uvicorn 0.55 says TCP itself; this stays for the older releases."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return tcp


class OneSendPerTurn:
    """A connection's transport whose writes made in one turn of the event loop leave in one
    send, at the end of that turn.

    uvicorn writes a response's status line and headers, then its body, each with its own
    send: two system calls, and on loopback or a LAN two wake-ups of the client for one
    answer. Profiled under bench/limit.sh, those sends were the largest share of a worker's
    CPU (docs/performance.md). Everything else is the transport's own; closing sends what
    waits first, aborting drops it."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._send)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _send(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def write_eof(self) -> None:
        self._send()
        self._transport.write_eof()

    def close(self) -> None:
        self._send()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpToolsOneSend(HttpToolsProtocol):
    """uvicorn's httptools protocol on a `OneSendPerTurn` transport: a response leaves in one
    send when its headers and body are written in the same turn (every response of the app
    but a large file's, whose chunks follow their reads)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneSendPerTurn(transport, self.loop))  # type: ignore[arg-type]


def settle() -> None:
    """Set every object alive now aside from the cyclic garbage collector (`gc.freeze`, after
    one collection of what the imports left behind): in a worker, the modules, the app and
    its routes, some 230,000 objects that live as long as the process. A full collection
    walks every tracked object (0.12 s for these alone); building a large graph allocates
    enough to start one or more, each of which walked them all again. A fresh worker's first
    map of the large synthetic territory took 0.80–0.83 s before, 0.67–0.69 s after on SQLite
    (`bench/bench_first_map.py --fresh-worker`, docs/performance.md)."""
    gc.collect()
    gc.freeze()


def served_app() -> Any:
    """The application as each of `carte serve`'s workers builds it (uvicorn's factory):
    `app.main.create_app`, then `settle`. Imported here, in the worker, not with this module."""
    from app.main import create_app

    app = create_app()
    settle()
    return app


def config(host: str, port: int, workers: int) -> TcpConfig:
    """The settings `carte serve` runs with."""
    return TcpConfig(
        "app.serving:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        http=HttpToolsOneSend,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


def run(host: str, port: int, workers: int) -> bool:
    """Serve until stopped; False when a single process failed to start."""
    settings = config(host, port, workers)
    server = uvicorn.Server(settings)
    if workers > 1:  # what uvicorn.run does, with our socket
        from uvicorn.supervisors import Multiprocess

        # Older uvicorn releases take the entry point of the workers; newer ones build it.
        target = {"target": server.run} if "target" in signature(Multiprocess).parameters else {}
        Multiprocess(settings, sockets=[settings.bind_socket()], **target).run()
        return True
    server.run()
    return server.started
