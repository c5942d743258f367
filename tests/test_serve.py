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


def test_uvicorns_own_socket_would_not_do():
    """The reason for TcpConfig: uvicorn's socket says protocol 0 (if this starts failing,
    uvicorn fixed it and TcpConfig can go)."""
    import uvicorn

    sock = uvicorn.Config("app.main:create_app", host="127.0.0.1", port=0).bind_socket()
    try:
        assert sock.proto == 0
    finally:
        sock.close()
