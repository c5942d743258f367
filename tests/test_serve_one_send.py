"""`carte serve` sends a response's headers and body together (`app.serving.OneSendPerTurn`):
one send per response instead of uvicorn's two, with nothing lost, reordered or delayed past
the loop's turn."""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from app import serving
from app.main import STATIC_DIR
from app.serving import HttpToolsOneSend, OneSendPerTurn


class _Transport:
    """The transport under test's wrapper: what it was asked to send, and when it closed."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)
        self.events.append("write")

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def write_eof(self) -> None:
        self.events.append("eof")

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str, default=None):
        return {"peername": ("127.0.0.1", 5555)}.get(name, default)


def _in_own_loop(test) -> None:
    """Run the coroutine function `test` on an event loop of its own, in a thread of its own:
    the browser tests may leave an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, test()).result(timeout=30)


async def _turn() -> None:
    """Let the loop run what was scheduled with call_soon before now."""
    await asyncio.sleep(0)


def test_writes_of_one_turn_leave_in_one_send_in_order():
    async def test() -> None:
        t = _Transport()
        w = OneSendPerTurn(t, asyncio.get_running_loop())  # type: ignore[arg-type]
        w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        w.write(b"")
        w.write(memoryview(b"hello"))
        assert t.sent == [] and w.get_write_buffer_size() == 7 + 38 + 5
        await _turn()
        assert t.sent == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
        w.writelines([b"a", b"b"])
        await _turn()
        w.write(b"c")
        await _turn()
        assert t.sent[1:] == [b"ab", b"c"]
        assert w.get_extra_info("peername") == ("127.0.0.1", 5555)  # the rest: the transport's

    _in_own_loop(test)


def test_close_sends_what_waits_first_and_abort_drops_it():
    async def test() -> None:
        loop = asyncio.get_running_loop()
        t = _Transport()
        w = OneSendPerTurn(t, loop)  # type: ignore[arg-type]
        w.write(b"last words")
        w.close()
        assert t.events == ["write", "close"] and t.sent == [b"last words"]
        await _turn()  # the scheduled send finds nothing more
        assert t.sent == [b"last words"]

        t = _Transport()
        w = OneSendPerTurn(t, loop)  # type: ignore[arg-type]
        w.write(b"half")
        w.write_eof()
        assert t.events == ["write", "eof"]

        t = _Transport()
        w = OneSendPerTurn(t, loop)  # type: ignore[arg-type]
        w.write(b"never")
        w.abort()
        await _turn()
        assert t.events == ["abort"] and t.sent == []

    _in_own_loop(test)


def test_carte_serve_uses_it():
    assert serving.config("127.0.0.1", 0, 2).http is HttpToolsOneSend


def _read_response(sock: socket.socket, buffered: bytearray) -> tuple[int, dict, bytes]:
    while b"\r\n\r\n" not in buffered:
        buffered += sock.recv(65536)
    head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    size = int(headers["content-length"])
    while len(rest) < size:
        rest += sock.recv(65536)
    buffered[:] = rest[size:]
    return int(lines[0].split()[1]), headers, rest[:size]


def test_responses_through_the_server_are_whole_and_one_send_each(live_server, monkeypatch):
    """The app served with carte's protocol on loopback (the browser tests' server): a page,
    JSON, a 404 and the largest static file, one after the other on one kept-alive
    connection, whole and in order; a page and a JSON answer each went out in one send
    (headers and body together)."""
    sends: list[int] = []
    real_send = OneSendPerTurn._send

    def counting(self) -> None:
        if self._pending:
            sends.append(len(self._pending))
        real_send(self)

    monkeypatch.setattr(OneSendPerTurn, "_send", counting)
    port = int(live_server.rsplit(":", 1)[1])
    css = max(STATIC_DIR.rglob("*.css"), key=lambda p: p.stat().st_size)
    paths = ["/login", "/api/v1/questionnaire/" + "x" * 32, "/nowhere", "/static/"
             + css.relative_to(STATIC_DIR).as_posix(), "/login"]  # fmt: skip
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        buffered = bytearray()
        got = []
        for path in paths:
            sends.clear()
            c.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            got.append((*_read_response(c, buffered), list(sends)))
    (login, _, page, one), (api, api_h, body, two) = got[0], got[1]
    assert login == 200 and b"<form" in page and one == [2]  # headers + body, one send
    assert api == 404 and api_h["content-type"] == "application/json" and two == [2]
    assert body.startswith(b'{"detail"')
    assert got[2][0] == 404
    static_status, _, static_body, _ = got[3]
    assert static_status == 200 and static_body == css.read_bytes()
    assert got[4][0] == 200 and b"<form" in got[4][2]  # the connection still answers
