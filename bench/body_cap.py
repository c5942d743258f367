"""Server memory under oversized request bodies (issue 11; the cap is app/limits.py).

    .venv/bin/python -m bench.body_cap
    .venv/bin/python -m bench.body_cap --url postgresql+psycopg://postgres@127.0.0.1/carte_body_cap

Prepares one territory with one personal link (bench/load.py's `prepare`), starts `carte serve`
on a free 127.0.0.1 port (`start_server`), records the resident memory of the server (VmRSS
summed over its process group, /proc), then sends COUNT concurrent PUTs of SIZE MB to an
unknown link, then COUNT to the valid one, first with Content-Length, then chunked (no
Content-Length), and records the memory after each batch and its peak (sampled every 20 ms).
The bodies are valid JSON drafts (a short comment padded with spaces), so that a server
without a cap reads, parses and stores them. Each PUT reads the answer while it sends and
stops sending once answered; every step is bounded by --timeout. Loopback only.

The database must be dedicated to the bench: it is emptied first (see bench/load.py).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import host_speed, prepare, reset_database, start_server
from survey.db import make_engine

SECRET = "bench-body-cap-secret"
UNKNOWN = "x" * 32  # well-formed, but no such link
BLOCK = 64 * 1024
MB = 1024 * 1024


@dataclass
class Push:
    """One oversized PUT as the client saw it."""

    status: int | None = None
    detail: str = ""
    sent: int = 0  # body bytes the server let us send before answering (or closing)
    seconds: float = 0.0
    error: str = ""


def json_draft(size: int) -> bytes:
    """A valid JSON draft of exactly `size` bytes: a short comment padded with spaces."""
    head, tail = b'{"comment": "body cap bench"', b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


def push(base_url: str, path: str, size: int, chunked: bool, timeout: float = 60.0) -> Push:
    """PUT a `size`-byte JSON body to `path`, reading the answer while sending: a server that
    refuses early answers (and closes) long before the end of the body."""
    url = urlsplit(base_url)
    assert url.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    out = Push()
    started = time.monotonic()
    deadline = started + timeout
    body = json_draft(size)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        f"{framing}\r\nConnection: close\r\n\r\n"
    ).encode()
    pending = bytearray(head)
    offset = 0  # next body byte to frame
    answer = bytearray()
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.setblocking(False)
        try:
            while time.monotonic() < deadline:
                if not pending and offset < size:
                    piece = body[offset : offset + BLOCK]
                    offset += len(piece)
                    pending += b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
                    if chunked and offset >= size:
                        pending += b"0\r\n\r\n"
                writing = [sock] if pending else []
                readable, writable, _ = select.select([sock], writing, [], 1.0)
                if readable:
                    data = sock.recv(65536)
                    if not data:
                        break
                    answer += data
                    if _complete(answer):
                        break
                    continue
                if writable:
                    n = sock.send(pending)
                    del pending[:n]
                    out.sent += n
        except OSError as exc:  # reset or broken pipe: the server closed while we sent
            out.error = type(exc).__name__
            answer += _drain(sock)
    out.sent = max(0, out.sent - len(head))
    out.seconds = time.monotonic() - started
    _parse(answer, out)
    if out.status is None and not out.error:
        out.error = "no answer" if time.monotonic() < deadline else "timeout"
    return out


def _drain(sock: socket.socket) -> bytes:
    data = bytearray()
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return bytes(data)


def _complete(answer: bytes) -> bool:
    head, sep, rest = bytes(answer).partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value.strip())
    return False


def _parse(answer: bytes, out: Push) -> None:
    head, _, rest = bytes(answer).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        return
    out.status = int(head.split(b" ", 2)[1])
    try:
        out.detail = json.loads(rest).get("detail", "")
    except ValueError:
        out.detail = rest[:80].decode(errors="replace")


# --- memory ------------------------------------------------------------------------------


def group_rss_mb(pgid: int) -> float:
    """Resident memory (VmRSS) summed over the processes of group `pgid`, in MB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return total / 1024


@dataclass
class Sampler:
    """The peak of `group_rss_mb` while a batch runs."""

    pgid: int
    peak: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, group_rss_mb(self.pgid))
            time.sleep(0.02)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, group_rss_mb(self.pgid))


def batch(base_url: str, path: str, size: int, count: int, chunked: bool, timeout: float):
    """`count` concurrent pushes; their outcomes."""
    results: list[Push] = [Push() for _ in range(count)]

    def one(i: int) -> None:
        try:
            results[i] = push(base_url, path, size, chunked, timeout)
        except OSError as exc:
            results[i] = Push(error=f"connect: {type(exc).__name__}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--url",
        default="sqlite:////tmp/carte_body_cap/bench.sqlite3",
        help="database dedicated to the bench (emptied)",
    )
    p.add_argument("--workers", type=int, default=1, help="server processes")
    p.add_argument("--size-mb", type=int, default=50, help="size of each PUT")
    p.add_argument("--count", type=int, default=4, help="concurrent PUTs per batch")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds, per PUT")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)

    if args.url.startswith("sqlite:////"):
        Path(args.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    print(f"host speed: {host_speed():.0f} ms per reference loop (lower is faster)")
    reset_database(args.url)
    world = prepare(make_engine(args.url), SECRET, respondents=1, structures=5)
    token = world.jobs[0].token
    server = start_server(args.url, SECRET, workers=args.workers, probe_token=token)
    pgid = os.getpgid(server.process.pid)
    size = args.size_mb * MB
    results: dict = {"size_mb": args.size_mb, "count": args.count, "workers": args.workers}
    try:
        time.sleep(1.0)  # let the workers settle after the first requests
        start = group_rss_mb(pgid)
        results["rss_start_mb"] = round(start, 1)
        print(f"server RSS at start: {start:.0f} MB ({args.workers} worker(s), {args.url})")
        for chunked in (False, True):
            for label, path_token in (("unknown link", UNKNOWN), ("valid link", token)):
                path = f"/api/v1/questionnaire/{path_token}"
                with Sampler(pgid) as sampler:
                    t0 = time.monotonic()
                    pushes = batch(server.base_url, path, size, args.count, chunked, args.timeout)
                    elapsed = time.monotonic() - t0
                after = group_rss_mb(pgid)
                kind = "chunked" if chunked else "Content-Length"
                statuses = sorted({str(x.status or x.error) for x in pushes})
                sent = max(x.sent for x in pushes) / MB
                print(
                    f"{args.count} × {args.size_mb} MB PUT, {kind:<14}, {label:<12}: "
                    f"{'/'.join(statuses)} in {elapsed:.1f} s, at most {sent:.1f} MB sent; "
                    f"RSS peak {sampler.peak:.0f} MB, after {after:.0f} MB"
                )
                results[f"{kind} {label}"] = {
                    "statuses": statuses,
                    "detail": pushes[0].detail,
                    "max_sent_mb": round(sent, 1),
                    "seconds": round(elapsed, 1),
                    "rss_peak_mb": round(sampler.peak, 1),
                    "rss_after_mb": round(after, 1),
                }
        end = group_rss_mb(pgid)
        results["rss_end_mb"] = round(end, 1)
        print(f"server RSS at start {start:.0f} MB, at the end {end:.0f} MB")
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
