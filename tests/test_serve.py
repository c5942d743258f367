"""`carte serve`'s listening socket: connections accepted from it get TCP_NODELAY."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from app.serving import TcpConfig


def test_the_shared_socket_is_tcp_with_nodelay():
    config = TcpConfig("app.main:create_app", factory=True, host="127.0.0.1", port=0, workers=2)
    sock = config.bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        sock.listen()

        # What a uvicorn worker does with it: asyncio sets TCP_NODELAY on each accepted
        # connection only when the listening socket says it is TCP.
        async def accepted_nodelay() -> int:
            seen: list[int] = []

            async def handle(reader, writer):
                seen.append(writer.get_extra_info("socket").getsockopt(
                    socket.IPPROTO_TCP, socket.TCP_NODELAY))  # fmt: skip
                writer.close()

            server = await asyncio.start_server(handle, sock=sock)
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()
            server.close()
            return seen[0]

        # In a thread of its own: the browser tests may leave an event loop running here.
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, accepted_nodelay()).result(timeout=30) == 1
    finally:
        sock.close()


def test_uvicorns_own_socket_says_tcp_only_in_recent_releases():
    """The reason for TcpConfig: up to uvicorn 0.54 the shared socket said protocol 0, and
    asyncio left Nagle on for every connection accepted from it; 0.55 says TCP itself.
    TcpConfig stays for the older releases pyproject.toml allows (uvicorn>=0.30)."""
    import uvicorn

    release = tuple(int(part) for part in uvicorn.__version__.split(".")[:2])
    sock = uvicorn.Config("app.main:create_app", host="127.0.0.1", port=0).bind_socket()
    try:
        assert sock.proto == (socket.IPPROTO_TCP if release >= (0, 55) else 0)
    finally:
        sock.close()


def test_each_worker_builds_the_app_then_sets_the_long_lived_objects_aside(tmp_path):
    """`carte serve`'s workers start from `served_app`: the app, built as usual (it answers),
    then every object alive at that point frozen out of the cyclic collector's full walks.
    In a fresh interpreter: freezing is for the whole process."""
    import os
    import subprocess
    import sys

    from app import serving

    settings = serving.config("127.0.0.1", 0, 2)
    assert (settings.app, settings.factory) == ("app.serving:served_app", True)
    probe = (
        "import gc\n"
        "from fastapi.testclient import TestClient\n"
        "from app import serving\n"
        "before = gc.get_freeze_count()\n"
        "app = serving.served_app()\n"
        "frozen = gc.get_freeze_count()\n"
        "status = TestClient(app).get('/accessibilite').status_code\n"
        "print(before, frozen, len(gc.get_objects()), status)\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    env.update(VAR_DIR=str(tmp_path), SECRET_KEY="s" * 48)
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    before, frozen, tracked, status = map(int, out.stdout.split())
    assert before == 0
    # Every route's modules (FastAPI, SQLAlchemy, networkx, igraph, matplotlib...): far more
    # objects than the few the test client's request leaves tracked afterwards.
    assert frozen > 100_000
    assert tracked < frozen / 4
    assert status == 200
