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

import socket
from inspect import signature

import uvicorn

# Seconds a worker may take to answer the supervisor before it is killed and replaced. The
# default (5 s) is shorter than the app's first import on a loaded 2-CPU machine; a worker
# that truly hangs is still replaced, a little later.
WORKER_HEALTHCHECK_S = 30


class TcpConfig(uvicorn.Config):
    """uvicorn's settings, with a listening socket that keeps TCP_NODELAY on.

    With several workers uvicorn binds the shared socket itself as `socket(family)`, protocol
    0, and asyncio only sets TCP_NODELAY on connections accepted from a socket whose protocol
    is TCP: every request after the first on a kept-alive connection then waited ~40 ms
    (Nagle against delayed ACKs; found with bench/load.py, docs/performance.md)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return tcp


def config(host: str, port: int, workers: int) -> TcpConfig:
    """The settings `carte serve` runs with."""
    return TcpConfig(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
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
