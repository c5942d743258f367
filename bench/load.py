"""Load bench: concurrent respondents against a real server on loopback.

    .venv/bin/python -m bench.load --url sqlite:////tmp/carte_load/load.sqlite3 --workers 2
    .venv/bin/python -m bench.load --url postgresql+psycopg://postgres@127.0.0.1/carte_load

It prepares a territory (structures, professionals, each with a personal link, one open
campaign), starts the server itself as a subprocess (`carte serve`, or uvicorn without
access log) on a free 127.0.0.1 port, then drives C concurrent respondents. Each one does
GET -> PUT (a draft of 15 partners) -> POST submit (15 partners, complete), or only the
POST submit with `--flow submit`, or the HTML form with `--flow page`. With `--carried N`
(and `--flow page`), every professional also has a submitted answer of N partners in a
closed 2025 campaign of the territory, so the 2026 page is the review list of a returning
respondent: each one reads the page, posts its fields with « Tout est comme l'an dernier »
(action=confirm_all), then « Envoyer »; a first pass reads every review page once to
measure the page alone. The run is bounded by the number of respondents and by
`--duration`. It prints throughput and p50/p95/p99 latency per request kind, then checks in
the database that every acknowledged (HTTP 200) submission is there, submitted and complete:
the exact partners, attributes and tags that were sent, and no orphan row.

The database must be dedicated to the bench (it is emptied first, and the bench refuses a
database holding territories it did not make). The pieces (`prepare`, `answers_for`,
`start_server`, `drive`, `check_database`) are reused by tests/test_durability.py.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from survey import links, migrate, tagbits, vocab
from survey.db import insert_rows, make_engine, stored_id, table_of
from survey.models import (
    Campaign,
    DeclaredLink,
    Invitation,
    LinkTag,
    Organisation,
    Professional,
    Response,
    ResponseObstacle,
    Service,
    Territory,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH_CODE_PREFIX = "L"  # territories made by this bench: L0001…
YEAR = 2026
PARTNERS = 15
PREVIOUS = "previous"  # answers_for variant of the 2025 answers carried into 2026
ORG_TYPES = ["caf", "ccas-cias", "siao", "mutualite-sociale-agricole", "mission-locale",
             "france-travail", "cpam", "carsat", "udaf", "services-departement", "chrs",
             "association", "sante", "bailleur-social"]  # fmt: skip


# --- data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One respondent of the run."""

    professional_id: int
    organisation_id: int
    token: str


@dataclass
class LoadWorld:
    campaign_id: int
    organisation_ids: list[int]
    jobs: list[Job]
    carried: int = 0  # partners each respondent carries from the 2025 campaign
    previous_campaign_id: int | None = None
    answers: str = "varied"  # what respondents send: ANSWER_SHAPES


def prepare(
    engine: Engine,
    secret: str,
    respondents: int = 400,
    structures: int = 60,
    code: str = "L0001",
    carried: int = 0,
) -> LoadWorld:
    """A territory with `structures` structures, `respondents` professionals with a personal
    link each, and an open campaign; one transaction. With `carried` > 0, also a closed
    campaign of the year before where every professional submitted `carried` complete
    partners (`answers_for(job, …, PREVIOUS, carried)`), written in bulk."""
    with Session(engine) as s:
        territory = Territory(code=code, name=f"Banc de charge {code}")
        s.add(territory)
        s.flush()
        orgs = [
            Organisation(
                territory_id=territory.id,
                name=f"Structure {i + 1:03d}",
                type=ORG_TYPES[i % len(ORG_TYPES)],
                commune="Guéret",
            )
            for i in range(structures)
        ]
        s.add_all(orgs)
        s.flush()
        s.add_all(Service(organisation_id=o.id, name="Accueil") for o in orgs[:10])
        campaign = Campaign(
            territory_id=territory.id,
            year=YEAR,
            status="open",
            opens_on=date(YEAR, 1, 1),
            closes_on=date(YEAR, 12, 31),
        )
        s.add(campaign)
        pros = [
            Professional(
                territory_id=territory.id,
                full_name=f"Pro {i + 1:05d}",
                email=f"pro{i + 1}@example.org",
                function="Conseillère",
                organisation_id=orgs[i % structures].id,
            )
            for i in range(respondents)
        ]
        s.add_all(pros)
        s.flush()
        jobs = _issue_links(s, secret, stored_id(campaign), pros)
        org_ids = [o.id for o in orgs]
        previous_id = None
        if carried:
            previous_id = _previous_campaign(s, territory.id, jobs, org_ids, carried)
        s.commit()
        return LoadWorld(campaign.id, org_ids, jobs, carried, previous_id)


def _issue_links(s: Session, secret: str, campaign_id: int, pros: list[Professional]) -> list[Job]:
    """A personal link for each professional, as `links.issue` makes them (nonce, token, its
    hash), in one INSERT: the campaign is new, so there is no earlier link to revoke, and one
    `links.issue` per professional (a query and a flush each) took 40 s for 9,000."""
    nonces = [secrets.token_urlsafe(24) for _ in pros]
    tokens = [links.derive_token(secret, nonce) for nonce in nonces]
    insert_rows(
        s,
        table_of(Invitation),
        [
            {
                "campaign_id": campaign_id,
                "professional_id": stored_id(p),
                "nonce": nonce,
                "token_hash": links.hash_token(token),
                "created_at": datetime.now(UTC),
            }
            for p, nonce, token in zip(pros, nonces, tokens, strict=True)
        ],
    )
    return [
        Job(stored_id(p), p.organisation_id, token) for p, token in zip(pros, tokens, strict=True)
    ]


def _previous_campaign(
    s: Session, territory_id: int, jobs: list[Job], organisation_ids: list[int], partners: int
) -> int:
    """A closed campaign of the year before where every job's professional submitted
    `partners` complete partners (links and tags): four bulk INSERTs."""
    year = YEAR - 1
    campaign = Campaign(
        territory_id=territory_id,
        year=year,
        status="closed",
        opens_on=date(year, 1, 1),
        closes_on=date(year, 12, 31),
    )
    s.add(campaign)
    s.flush()
    when = datetime(year, 6, 1, 9, 0, tzinfo=UTC)
    answers = [answers_for(job, organisation_ids, PREVIOUS, partners) for job in jobs]
    response_ids = insert_rows(
        s,
        Response.__table__,
        [
            {
                "campaign_id": campaign.id,
                "professional_id": job.professional_id,
                "organisation_id": job.organisation_id,
                "service_id": None,
                "status": "submitted",
                "questionnaire_version": vocab.QUESTIONNAIRE_VERSION,
                "function": a["function"],
                "years_in_post": a["years_in_post"],
                "declared_partner_count": a["declared_partner_count"],
                "obstacle_other": "",
                "body_other": "",
                "comment": a["comment"],
                "created_at": when,
                "updated_at": when,
                "submitted_at": when,
            }
            for job, a in zip(jobs, answers, strict=True)
        ],
        returning=Response.__table__.c.id,
    )
    link_rows, link_answers = [], []
    for response_id, a in zip(response_ids, answers, strict=True):
        for position, lk in enumerate(a["links"]):
            link_rows.append(
                {
                    "response_id": response_id,
                    "position": position,
                    "partner_organisation_id": lk["partner_organisation_id"],
                    "partner_service_id": None,
                    "status": lk["status"],
                    "nature": lk["nature"],
                    "frequency": lk["frequency"],
                    "practice_other": "",
                    "has_named_contact": lk["has_named_contact"],
                    "contact_name": "",
                    "contact_consent": False,
                    "quality": lk["quality"],
                    "carried_from_id": None,
                    # The graph reads the counted tags from the mask (survey/tagbits.py).
                    "tag_bits": tagbits.tag_bits(
                        (kind, code) for kind, key in TAG_KINDS for code in lk[key]
                    ),
                }
            )
            link_answers.append(lk)
    link_ids = insert_rows(
        s, DeclaredLink.__table__, link_rows, returning=DeclaredLink.__table__.c.id
    )
    insert_rows(
        s,
        LinkTag.__table__,
        [
            {"link_id": link_id, "kind": kind, "code": code}
            for link_id, lk in zip(link_ids, link_answers, strict=True)
            for kind, key in TAG_KINDS
            for code in lk[key]
        ],
    )
    insert_rows(
        s,
        ResponseObstacle.__table__,
        [
            {"response_id": response_id, "code": code}
            for response_id, a in zip(response_ids, answers, strict=True)
            for code in a["obstacles"]
        ],
    )
    return campaign.id


# What respondents send (`answers_for(shape=…)`, `bench.load --answers`):
# - varied: a spread of answers (frames, channels, 1 to 3 practices, some thématiques, two
#   obstacles): 15 links and about 70 tag rows a submission;
# - limit: the rows `bench/submit_limit.sql` writes, for the ratio to pgbench: 15 informal,
#   monthly links of quality 3 with two practices each (referral, mutual_information), 30 tag
#   rows, no obstacle. Comparing the varied answers with that script compared 70 tag rows and
#   two obstacles against 30 tag rows.
ANSWER_SHAPES = ("varied", "limit")
LIMIT_PRACTICES = ["referral", "mutual_information"]


def answers_for(
    job: Job,
    organisation_ids: list[int],
    variant: str,
    partners: int = PARTNERS,
    shape: str = "varied",
) -> dict:
    """The answers a respondent sends: deterministic per (professional, variant), complete,
    `partners` partners (15) other than their own structure. The draft and the final answers
    differ, so a stored response tells which of the two it holds. `shape`: ANSWER_SHAPES."""
    rng = random.Random(f"{job.professional_id}:{variant}")
    pool = [o for o in organisation_ids if o != job.organisation_id]
    partners = rng.sample(pool, min(partners, len(pool)))
    if shape == "limit":
        return {
            "function": "Conseillère",
            "years_in_post": None,
            "declared_partner_count": len(partners),
            "links": [
                {
                    "partner_organisation_id": org_id,
                    "status": "new",
                    "nature": "informal",
                    "frequency": "monthly",
                    "frames": [],
                    "channels": [],
                    "practices": list(LIMIT_PRACTICES),
                    "thematiques": [],
                    "has_named_contact": False,
                    "quality": 3,
                }
                for org_id in partners
            ],
            "obstacles": [],
            "comment": f"Réponse {variant} de banc de charge.",
        }
    out_links = []
    for org_id in partners:
        nature = rng.choice(list(vocab.NATURES))
        out_links.append(
            {
                "partner_organisation_id": org_id,
                "status": "new",
                "nature": nature,
                "frames": rng.sample(list(vocab.FRAMES), rng.randint(1, 2))
                if nature != "informal"
                else [],
                "channels": rng.sample(list(vocab.CHANNELS), rng.randint(1, 2))
                if nature != "formal"
                else [],
                "frequency": rng.choice(list(vocab.FREQUENCIES)),
                "practices": rng.sample(list(vocab.PRACTICES), rng.randint(1, 3)),
                "thematiques": rng.sample(list(vocab.THEMATIQUES), 1) if rng.random() < 0.4 else [],
                "has_named_contact": False,
                "quality": rng.choice(list(vocab.QUALITIES)),
            }
        )
    return {
        "function": "Conseillère",
        "years_in_post": rng.choice(list(vocab.YEARS_IN_POST)),
        "declared_partner_count": len(out_links),
        "links": out_links,
        "obstacles": rng.sample([c for c in vocab.OBSTACLES if c != "other"], 2),
        "comment": f"Réponse {variant} de banc de charge.",
    }


LinkKey = tuple  # (position, partner, nature, frequency, quality, tags)
TAG_KINDS = (
    ("frame", "frames"),
    ("channel", "channels"),
    ("practice", "practices"),
    ("thematique", "thematiques"),
)


def signature(answers: dict) -> tuple[LinkKey, ...]:
    """What the database must hold for these answers, link by link."""
    out = []
    for position, a in enumerate(answers["links"]):
        tags = frozenset((kind, code) for kind, key in TAG_KINDS for code in a[key])
        out.append(
            (
                position,
                a["partner_organisation_id"],
                a["nature"],
                a["frequency"],
                a["quality"],
                tags,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Stored:
    status: str
    submitted_at_set: bool
    links: tuple[LinkKey, ...]


def stored_responses(engine: Engine, campaign_id: int) -> dict[int, Stored]:
    """Every response of the campaign as stored, by professional (three queries)."""
    with Session(engine) as s:
        responses = s.exec(
            select(Response.id, Response.professional_id, Response.status, Response.submitted_at)
            .where(Response.campaign_id == campaign_id)
        ).all()  # fmt: skip
        rows = s.exec(
            select(
                DeclaredLink.id,
                DeclaredLink.response_id,
                DeclaredLink.position,
                DeclaredLink.partner_organisation_id,
                DeclaredLink.nature,
                DeclaredLink.frequency,
                DeclaredLink.quality,
            )
            .join(Response, Response.id == DeclaredLink.response_id)
            .where(Response.campaign_id == campaign_id)
        ).all()
        tags: dict[int, set] = {}
        for link_id, kind, code in s.exec(
            select(LinkTag.link_id, LinkTag.kind, LinkTag.code)
            .join(DeclaredLink, DeclaredLink.id == LinkTag.link_id)
            .join(Response, Response.id == DeclaredLink.response_id)
            .where(Response.campaign_id == campaign_id)
        ):
            tags.setdefault(link_id, set()).add((kind, code))
    by_response: dict[int, list] = {}
    for link_id, response_id, pos, org, nature, freq, quality in rows:
        key = (pos, org, nature, freq, quality, frozenset(tags.get(link_id, ())))
        by_response.setdefault(response_id, []).append(key)
    return {
        pro_id: Stored(status, submitted_at is not None, tuple(sorted(by_response.get(rid, []))))
        for rid, pro_id, status, submitted_at in responses
    }


def orphans(engine: Engine) -> dict[str, int]:
    """Rows that hang on nothing: must all be zero."""
    queries = {
        "linktag without link": "SELECT count(*) FROM linktag t "
        "LEFT JOIN declaredlink l ON l.id = t.link_id WHERE l.id IS NULL",
        "link without response": "SELECT count(*) FROM declaredlink l "
        "LEFT JOIN response r ON r.id = l.response_id WHERE r.id IS NULL",
        "obstacle without response": "SELECT count(*) FROM responseobstacle o "
        "LEFT JOIN response r ON r.id = o.response_id WHERE r.id IS NULL",
    }
    with engine.connect() as conn:
        return {name: conn.execute(text(q)).scalar_one() for name, q in queries.items()}


# --- server ----------------------------------------------------------------------------


START_TIMEOUT_S = 120.0  # `main`: the server's start, workers' imports included


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log_path: Path

    def kill(self) -> None:
        """SIGKILL the whole process group (uvicorn's supervisor and its workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def start_server(
    database_url: str,
    secret: str,
    workers: int = 1,
    port: int | None = None,
    kind: str = "carte",
    log_path: Path | None = None,
    probe_token: str | None = None,
    timeout: float = 30.0,
) -> Server:
    """Start the server in its own process group and wait until it answers.

    kind "carte" runs `carte serve` as shipped (uvicorn, access log on); "uvicorn" runs the
    same factory without access log. `probe_token` (a valid link) makes the wait end only when
    the app reaches the database, not merely when the socket listens.
    """
    port = port or free_port()
    bind = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if kind == "carte":
        cmd = [sys.executable, "-c", "from app.cli import main; main()", "serve", *bind]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", *bind,
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret}
    log_path = log_path or Path(f"/tmp/carte_load_server_{port}.log")
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed with it
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    path = f"/api/v1/questionnaire/{probe_token or 'x' * links.TOKEN_LENGTH}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            r = httpx.get(server.base_url + path, timeout=2)
            if r.status_code == (200 if probe_token else 404):
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"server did not answer within {timeout} s:\n{server.log_tail()}")
        time.sleep(0.1)


# --- driving ---------------------------------------------------------------------------


@dataclass
class Outcome:
    job: Job
    acked: list[str] = field(default_factory=list)  # kinds answered 200: get, put, submit
    error: str | None = None


@dataclass
class Run:
    outcomes: list[Outcome]
    latencies: dict[str, list[float]]  # kind -> seconds, 200 answers only
    errors: Counter
    elapsed: float
    client_cpu: float
    most_in_flight: int = 0  # respondents under way at once, at most

    @property
    def submissions(self) -> int:
        return sum(1 for o in self.outcomes if "submit" in o.acked)


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, one per respondent (as a
    respondent's browser has its own connection).

    Why not httpx here: the client shares the machine's 2 cores with the server and the
    database, and httpx spends ~3 ms of CPU per request, a large share of what is measured.
    New connections per respondent also spread the load over the server's workers (they
    share one listening socket: a pool of 32 long-lived connections opened at once tends to
    land on a single worker).
    """

    def __init__(self, host: str, port: int, timeout: float = 60.0, gzip: bool = False) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.gzip = gzip  # send Accept-Encoding: gzip (as browsers do) and decompress
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = JSON
    ) -> tuple[int, bytes]:
        # asyncio.timeout, not wait_for: no task of its own per request (client CPU).
        async with asyncio.timeout(self.timeout):
            return await self._request(method, path, body, content_type)

    async def _request(
        self, method: str, path: str, body: bytes | None, content_type: str
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if self.gzip:
            head += "Accept-Encoding: gzip\r\n"
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        assert self.reader is not None
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = raw.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await self.reader.readexactly(size + 2))
            await self.reader.readuntil(b"\r\n")
            payload = b"".join(c[:-2] for c in chunks)
        else:
            payload = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("content-encoding", "").lower() == "gzip":
            payload = zlib.decompress(payload, 16 + zlib.MAX_WBITS)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


def form_pairs(answers: dict, action: str) -> list[tuple[str, str]]:
    """The questionnaire page's form fields for these answers (app/forms.py's names), as a
    browser posts them when the person presses « Enregistrer » or « Envoyer »."""
    pairs = [
        ("function", answers["function"]),
        ("years_in_post", answers["years_in_post"] or ""),
        ("declared_partner_count", str(answers["declared_partner_count"])),
        ("comment", answers["comment"]),
        *(("obstacles", code) for code in answers["obstacles"]),
    ]
    for slot, link in enumerate(answers["links"]):
        p = f"l{slot}-"
        pairs += [
            (p + "partner", str(link["partner_organisation_id"])),
            (p + "nature", link["nature"] or ""),
            (p + "frequency", link["frequency"] or ""),
            (p + "quality", str(link["quality"] or "")),
            (p + "has_named_contact", "yes" if link["has_named_contact"] else "no"),
        ]
        for name in ("frames", "channels", "practices", "thematiques"):
            pairs += [(p + name, code) for code in link[name]]
    return [*pairs, ("action", action), ("formulaire_complet", "1")]


# What a respondent's connection may raise: the step fails, the run goes on.
NETWORK_ERRORS = (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError)


def _failed(run: Run, out: Outcome, what: str) -> None:
    """A step that did not succeed: counted once in the run, kept on the respondent."""
    out.error = what
    run.errors[what] += 1


async def _page_respondent(
    conn: Connection, job: Job, orgs: list[int], run: Run, out: Outcome
) -> None:
    """The HTML questionnaire, as a person with a browser: open the page, save a draft, submit;
    each POST is followed by the page it redirects to (what the person waits for)."""
    page = f"/q/{job.token}"
    steps = [("get", None, None), ("put", "save", "enregistre=1"), ("submit", "submit", "envoye=1")]
    for kind, action, landing in steps:
        started = time.perf_counter()
        try:
            if action is None:
                status, _ = await conn.request("GET", page)
            else:
                variant = "draft" if action == "save" else "final"
                body = urlencode(form_pairs(answers_for(job, orgs, variant), action)).encode()
                status, _ = await conn.request("POST", page, body, FORM)
                if status == 303:  # saved: the page it leads to must show no error
                    status, html = await conn.request("GET", f"{page}?{landing}")
                    if status == 200 and b'role="alert"' in html:
                        status = 422
        except NETWORK_ERRORS as exc:
            _failed(run, out, f"{kind}: {type(exc).__name__}")
            return
        if status != 200:
            _failed(run, out, f"{kind}: HTTP {status}")
            return
        run.latencies[kind].append(time.perf_counter() - started)
        out.acked.append(kind)


class FormFields(HTMLParser):
    """The fields a browser posts for the form `form_id` of a page, in page order, without
    the button pressed: text and hidden inputs, checked radios and checkboxes, textareas,
    selected options; disabled controls and buttons left out. Controls outside the form
    that name it (`form="…"`) count, as in a browser."""

    _NOT_POSTED = frozenset({"submit", "button", "image", "reset", "file"})

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.pairs: list[tuple[str, str]] = []
        self._inside = False
        self._textarea: tuple[str, list[str]] | None = None
        # name, multiple, options as (value, selected), the option being read
        self._select: tuple[str, bool, list[tuple[str, bool]]] | None = None
        self._option: list | None = None  # [value or None, selected, text chunks]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._inside = a.get("id") == self.form_id
            return
        if tag == "option" and self._select is not None:
            self._close_option()
            self._option = [a.get("value"), "selected" in a, []]
            return
        owner = a.get("form")
        if not (self._inside if owner is None else owner == self.form_id):
            return
        name = a.get("name")
        if not name or "disabled" in a:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.pairs.append((name, (a["value"] or "") if "value" in a else "on"))
            elif kind not in self._NOT_POSTED:
                self.pairs.append((name, a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = (name, [])
        elif tag == "select":
            self._select = (name, "multiple" in a, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, chunks = self._textarea
            text = "".join(chunks)
            self.pairs.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "option":
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_option()
            name, multiple, options = self._select
            chosen = [v for v, selected in options if selected]
            if not chosen and options and not multiple:
                chosen = [options[0][0]]
            self.pairs += [(name, v) for v in (chosen if multiple else chosen[-1:])]
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option[2].append(data)

    def _close_option(self) -> None:
        if self._option is not None and self._select is not None:
            value, selected, chunks = self._option
            text = " ".join("".join(chunks).split())
            self._select[2].append((text if value is None else value, selected))
        self._option = None


def form_fields(html: bytes, form_id: str = "questionnaire") -> list[tuple[str, str]]:
    """What a browser posts for the form `form_id` of a page (see `FormFields`)."""
    parser = FormFields(form_id)
    parser.feed(html.decode("utf-8"))
    parser.close()
    return parser.pairs


def _browser_post(fields: list[tuple[str, str]], action: str) -> bytes:
    """The body a browser sends when the button `action` of the questionnaire is pressed."""
    pairs = [*fields, ("action", action)]
    if ("formulaire_complet", "1") not in pairs:
        pairs.append(("formulaire_complet", "1"))
    return urlencode(pairs).encode()


def _rows(html: bytes, status: str) -> int:
    """Partners shown as a review line with this status (pending, confirmed, ended)."""
    return html.count(f'class="partner review-row {status}'.encode())


async def _review_respondent(conn: Connection, job: Job, carried: int, run: Run, out: Outcome):
    """A returning respondent on the HTML form: read the review page of the partners carried
    from last year, press « Tout est comme l'an dernier » (the page's fields as a browser
    posts them, action=confirm_all), then « Envoyer » on the page it leads to; each POST is
    followed by the page it redirects to, and each page is checked."""
    page = f"/q/{job.token}"
    html = b""
    steps = [("get", None, None), ("confirm", "confirm_all", "confirme=1"),
             ("submit", "submit", "envoye=1")]  # fmt: skip
    for kind, action, landing in steps:
        # The form is read before the clock starts: a step times the server, not this parser.
        body = _browser_post(form_fields(html), action) if action else b""
        started = time.perf_counter()
        try:
            if action is None:
                status, html = await conn.request("GET", page)
                if status == 200 and _rows(html, "pending") != carried:
                    status = 422  # not the review page of `carried` partners to confirm
            else:
                status, _ = await conn.request("POST", page, body, FORM)
                if status == 303:
                    status, html = await conn.request("GET", f"{page}?{landing}")
                    if status == 200 and (
                        b'role="alert"' in html or _rows(html, "confirmed") != carried
                    ):
                        status = 422
        except NETWORK_ERRORS as exc:
            _failed(run, out, f"{kind}: {type(exc).__name__}")
            return
        if status != 200:
            _failed(run, out, f"{kind}: HTTP {status}")
            return
        run.latencies[kind].append(time.perf_counter() - started)
        out.acked.append(kind)


Step = tuple[str, str, str, bytes | None]  # kind, method, path, JSON body


def api_steps(job: Job, orgs: list[int], flow: str, shape: str = "varied") -> list[Step]:
    """The API requests of one respondent of flow « full » or « submit », bodies encoded."""
    url = f"/api/v1/questionnaire/{job.token}"
    steps: list[Step] = []
    if flow == "full":
        draft = json.dumps(answers_for(job, orgs, "draft", shape=shape)).encode()
        steps += [("get", "GET", url, None), ("put", "PUT", url, draft)]
    final = json.dumps(answers_for(job, orgs, "final", shape=shape)).encode()
    return [*steps, ("submit", "POST", url + "/submit", final)]


async def _respondent(
    host: str,
    port: int,
    job: Job,
    orgs: list[int],
    flow: str,
    run: Run,
    carried: int = 0,
    gzip: bool = False,
    steps: list[Step] | None = None,
) -> Outcome:
    """One respondent's requests; the API flows send `steps` (`api_steps`)."""
    out = Outcome(job)
    if flow in ("page", "review"):
        conn = Connection(host, port, gzip=gzip)
        try:
            if flow == "review":  # the review page alone, read once
                await _timed_get(conn, f"/q/{job.token}", carried, run, out)
            elif carried:
                await _review_respondent(conn, job, carried, run, out)
            else:
                await _page_respondent(conn, job, orgs, run, out)
        finally:
            conn.close()
        return out
    conn = Connection(host, port)
    try:
        for kind, method, path, payload in steps or ():
            started = time.perf_counter()
            try:
                status, content = await conn.request(method, path, payload)
            except NETWORK_ERRORS as exc:
                _failed(run, out, f"{kind}: {type(exc).__name__}")
                return out
            took = time.perf_counter() - started
            if status != 200:
                _failed(run, out, f"{kind}: HTTP {status}")
                return out
            if kind == "submit":
                data = json.loads(content)
                if data.get("status") != "submitted" or len(data.get("links", [])) != PARTNERS:
                    _failed(run, out, "submit: 200 with an unexpected body")
                    return out
            run.latencies[kind].append(took)
            out.acked.append(kind)
    finally:
        conn.close()
    return out


async def _timed_get(conn: Connection, page: str, carried: int, run: Run, out: Outcome):
    started = time.perf_counter()
    try:
        status, html = await conn.request("GET", page)
    except NETWORK_ERRORS as exc:
        _failed(run, out, f"review: {type(exc).__name__}")
        return
    if status == 200 and _rows(html, "pending") != carried:
        status = 422
    if status != 200:
        _failed(run, out, f"review: HTTP {status}")
        return
    run.latencies["review"].append(time.perf_counter() - started)
    out.acked.append("review")


async def drive(
    base_url: str,
    jobs: list[Job],
    organisation_ids: list[int],
    concurrency: int = 32,
    duration: float = 60.0,
    flow: str = "full",
    progress: Counter | None = None,
    rate: float | None = None,
    carried: int = 0,
    gzip: bool = False,
    shape: str = "varied",
) -> Run:
    """C concurrent respondents over `jobs`, each job at most once, until done or `duration`.

    Closed loop by default: each of the C respondents starts the next job as soon as one is
    done (the server's saturation throughput). With `rate`, open loop: a respondent arrives
    every 1/rate s whatever the server does, at most C under way at once (latency at a given
    load). `progress["submit"]` counts acknowledged submissions as they happen (for the
    fault test). `carried` (flows page and review): the partners each respondent carries
    from last year (`prepare(carried=…)`); `gzip`: the page flows ask for gzip. The API
    flows' bodies are encoded before the clock starts: the client shares the machine with
    what it measures, and a real respondent's device is not on the server.
    """
    kinds = ["get", "put", "submit"] if flow != "review" else ["review"]
    if carried and flow == "page":
        kinds = ["get", "confirm", "submit"]
    run = Run([], {kind: [] for kind in kinds}, Counter(), 0.0, 0.0)
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    prepared: dict[int, list[Step]] = {}
    if flow in ("full", "submit"):
        prepared = {j.professional_id: api_steps(j, organisation_ids, flow, shape) for j in jobs}
    deadline = time.monotonic() + duration
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80

    async def worker() -> None:
        while time.monotonic() < deadline:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            steps = prepared.get(job.professional_id)
            outcome = await _respondent(
                host, port, job, organisation_ids, flow, run, carried, gzip, steps
            )
            run.outcomes.append(outcome)
            if progress is not None and "submit" in outcome.acked:
                progress["submit"] += 1

    in_flight = 0

    async def one(job: Job, slots: asyncio.Semaphore) -> None:
        nonlocal in_flight
        async with slots:
            in_flight += 1
            run.most_in_flight = max(run.most_in_flight, in_flight)
            steps = prepared.get(job.professional_id)
            outcome = await _respondent(
                host, port, job, organisation_ids, flow, run, carried, gzip, steps
            )
            in_flight -= 1
        run.outcomes.append(outcome)
        if progress is not None and "submit" in outcome.acked:
            progress["submit"] += 1

    async def arrivals() -> None:
        slots, tasks = asyncio.Semaphore(concurrency), []
        start = time.perf_counter()
        for i in range(len(jobs)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.monotonic() >= deadline:
                break
            tasks.append(asyncio.create_task(one(queue.get_nowait(), slots)))
        await asyncio.gather(*tasks)

    cpu0, t0 = time.process_time(), time.perf_counter()
    if rate:
        await arrivals()
    else:
        run.most_in_flight = concurrency
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - t0
    run.client_cpu = time.process_time() - cpu0
    return run


# --- CPU accounting ------------------------------------------------------------------


def run_async(coroutine):
    """`asyncio.run` on uvloop when it is installed (it is, with the server): the client shares
    the machine's 2 CPUs with what it measures, and uvloop's loop costs it less CPU per request
    than asyncio's. The client's CPU is printed apart and is not in the CPU ratio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def host_speed() -> float:
    """Milliseconds of CPU for a fixed pure-Python loop (best of 3). The machines these
    benches run on are shared virtual machines whose speed drifts by tens of percent within
    an hour: printing this beside the results tells runs of a fast moment from a slow one."""
    best = float("inf")
    for _ in range(3):
        started, total = time.process_time(), 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.process_time() - started)
    return best * 1000


def cpu_by_group(server_pgid: int, database: str | None = None) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's process group and by the
    PostgreSQL server's processes of this machine (Linux /proc; empty elsewhere). The
    PostgreSQL figure includes other clients of the same server, if any; with `database`,
    "pg_this_db" counts only the backends connected to it (the app's pooled connections
    live through the run, so none is missed), which other jobs on the machine leave alone."""
    out = {"server": 0.0, "postgresql": 0.0}
    if database is not None:
        out["pg_this_db"] = sum(database_backends_cpu(database).values())
    hz = os.sysconf("SC_CLK_TCK")
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2 :].split()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
        except (OSError, ValueError):
            continue
        ticks = int(fields[11]) + int(fields[12])
        if int(fields[2]) == server_pgid:
            out["server"] += ticks / hz
        elif name.startswith("postgres"):
            out["postgresql"] += ticks / hz
    return out


def database_backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to `database`, by process
    id (Linux /proc: a backend's command line reads "postgres: … user database host(port) …").
    A backend's time is lost once it exits: sample while its client runs (bench/limit.sh)."""
    hz = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return out
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = f.read().replace(b"\0", b" ").split()
            if not words or words[0] != b"postgres:" or database.encode() not in words[1:4]:
                continue
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(pid)] = (int(fields[11]) + int(fields[12])) / hz
    return out


def sample_database_cpu(database: str, until: Path, every: float = 0.2) -> float:
    """CPU seconds used by the backends of `database` from now until the file `until`
    exists, backends that exit meanwhile included (their last sample)."""
    start = database_backends_cpu(database)
    last = dict(start)
    while not until.exists():
        time.sleep(every)
        last.update(database_backends_cpu(database))
    return sum(last.values()) - sum(start.values())


# --- checking --------------------------------------------------------------------------


def check_database(engine: Engine, t: LoadWorld, outcomes: list[Outcome]) -> list[str]:
    """Problems found: every acknowledged submission is stored, submitted and exactly what
    was sent; every stored response is wholly the draft or wholly the final answers. For a
    world with carried partners, see `check_carried`."""
    if t.carried:
        return check_carried(engine, t, outcomes)
    stored = stored_responses(engine, t.campaign_id)
    by_pro = {j.professional_id: j for j in t.jobs}
    problems: list[str] = []
    for pro_id, st in stored.items():
        job = by_pro[pro_id]
        final = answers_for(job, t.organisation_ids, "final", shape=t.answers)
        draft = answers_for(job, t.organisation_ids, "draft", shape=t.answers)
        final, draft = (tuple(sorted(signature(a))) for a in (final, draft))
        if st.status == "submitted" and (st.links != final or not st.submitted_at_set):
            problems.append(f"professional {pro_id}: submitted but not the final answers")
        elif st.status == "draft" and (st.links != draft or st.submitted_at_set):
            problems.append(f"professional {pro_id}: draft but not the draft answers")
        elif st.status not in ("draft", "submitted"):
            problems.append(f"professional {pro_id}: status {st.status!r}")
    for o in outcomes:
        st = stored.get(o.job.professional_id)
        if "submit" in o.acked and (st is None or st.status != "submitted"):
            problems.append(f"professional {o.job.professional_id}: acknowledged submit lost")
        elif "put" in o.acked and st is None:
            problems.append(f"professional {o.job.professional_id}: acknowledged draft lost")
    problems += [f"{n}: {c}" for n, c in orphans(engine).items() if c]
    return problems


_CARRIED_LINKS = text(
    "SELECT r.professional_id, l.status, "
    "CASE WHEN p.partner_organisation_id = l.partner_organisation_id "
    "AND pr.professional_id = r.professional_id AND pr.campaign_id = :previous "
    "THEN 1 ELSE 0 END "
    "FROM declaredlink l JOIN response r ON r.id = l.response_id "
    "LEFT JOIN declaredlink p ON p.id = l.carried_from_id "
    "LEFT JOIN response pr ON pr.id = p.response_id "
    "WHERE r.campaign_id = :campaign"
)


def check_carried(engine: Engine, t: LoadWorld, outcomes: list[Outcome]) -> list[str]:
    """Problems found after returning respondents confirmed everything (« Tout est comme l'an
    dernier ») and submitted: every stored response holds exactly the respondent's
    `t.carried` partners of last year (partners, attributes, tags, in order), each
    confirmed and carried from the respondent's own link to the same partner; a confirmation
    acknowledged is stored, a submission acknowledged is stored submitted."""
    stored = stored_responses(engine, t.campaign_id)
    with engine.connect() as conn:
        rows = conn.execute(
            _CARRIED_LINKS, {"campaign": t.campaign_id, "previous": t.previous_campaign_id}
        ).all()
    not_confirmed = Counter(pro for pro, status, ok in rows if status != "confirmed" or not ok)
    by_pro = {j.professional_id: j for j in t.jobs}
    problems: list[str] = []
    for pro_id, st in stored.items():
        previous = answers_for(by_pro[pro_id], t.organisation_ids, PREVIOUS, t.carried)
        if st.links != tuple(sorted(signature(previous))):
            problems.append(f"professional {pro_id}: not exactly its {t.carried} carried partners")
        if not_confirmed[pro_id]:
            problems.append(
                f"professional {pro_id}: {not_confirmed[pro_id]} partners not confirmed "
                "or not carried from its own link of last year"
            )
        if st.status not in ("draft", "submitted"):
            problems.append(f"professional {pro_id}: status {st.status!r}")
        elif st.submitted_at_set != (st.status == "submitted"):
            problems.append(f"professional {pro_id}: {st.status} with submitted_at wrong")
    for o in outcomes:
        st = stored.get(o.job.professional_id)
        if "submit" in o.acked and (st is None or st.status != "submitted"):
            problems.append(f"professional {o.job.professional_id}: acknowledged submit lost")
        elif "confirm" in o.acked and st is None:
            problems.append(f"professional {o.job.professional_id}: acknowledged confirm lost")
    problems += [f"{n}: {c}" for n, c in orphans(engine).items() if c]
    return problems


# --- the bench -------------------------------------------------------------------------


def reset_database(url: str) -> None:
    """Empty a database dedicated to the bench, then migrate it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        migrate.upgrade(url)
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        has_schema = conn.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_name = 'territory'")
        ).scalar_one()
        if has_schema:
            foreign = conn.execute(
                text("SELECT count(*) FROM territory WHERE code NOT LIKE :p"),
                {"p": BENCH_CODE_PREFIX + "%"},
            ).scalar_one()
            if foreign:
                raise SystemExit(f"{parsed.database}: holds territories not made by the bench")
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds."""
    if len(values) < 2:
        v = values[0] * 1000 if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49] * 1000, q[94] * 1000, q[98] * 1000


def page_bytes(base_url: str, path: str) -> tuple[int, int | None]:
    """Bytes of a page as sent: without and with `Accept-Encoding: gzip` (None when the
    server does not compress it)."""
    address = urlsplit(base_url)
    sizes = []
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()  # as sent: http.client does not decompress
            if response.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status}")
            compressed = response.getheader("Content-Encoding") == "gzip"
            sizes.append(len(body) if compressed or not headers else None)
        finally:
            conn.close()
    return sizes[0], sizes[1]


def _cpu_delta(before: dict[str, float], after: dict[str, float], client: float) -> dict:
    return {k: after[k] - before[k] for k in before} | {"client": client}


def _print_run(run: Run, cpu: dict[str, float], per: str, have_cpu: bool) -> dict:
    """Print throughput, CPU per `per` (request or step) and latency per kind; return the
    latency percentiles by kind."""
    requests = sum(map(len, run.latencies.values()))
    print(
        f"respondents done: {len(run.outcomes)}, acknowledged submissions: {run.submissions}, "
        f"in {run.elapsed:.2f} s -> {run.submissions / run.elapsed:.1f} submissions/s, "
        f"{requests / run.elapsed:.1f} {per}s/s (client CPU {run.client_cpu:.1f} s)"
    )
    if requests and have_cpu:
        text_ = ", ".join(f"{k} {v / requests * 1000:.2f} ms" for k, v in cpu.items())
        print(f"CPU per {per}: {text_} (of {os.cpu_count()} CPUs x {run.elapsed:.1f} s)")
    out = {}
    for kind, values in run.latencies.items():
        if values:
            p50, p95, p99 = percentiles(values)
            out[kind] = {"n": len(values), "p50": p50, "p95": p95, "p99": p99,
                         "per_s": len(values) / run.elapsed}  # fmt: skip
            print(f"  {kind:<7} n={len(values):5d}  {len(values) / run.elapsed:6.1f}/s  "
                  f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  p99 {p99:7.1f} ms")  # fmt: skip
    if run.errors:
        print(f"errors: {dict(run.errors)}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", required=True, help="database dedicated to the bench (emptied)")
    p.add_argument("--respondents", type=int, default=400)
    p.add_argument("--structures", type=int, default=60)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--workers", type=int, default=2, help="server processes")
    p.add_argument("--duration", type=float, default=120.0, help="seconds, at most")
    p.add_argument(
        "--flow",
        choices=["full", "submit", "page"],
        default="full",
        help="full: API GET, PUT, submit; submit: API submit only; page: the HTML form (page, "
        "save a draft, submit, each POST followed by the page it leads to)",
    )
    p.add_argument(
        "--carried",
        type=int,
        default=0,
        metavar="N",
        help="with --flow page: every respondent answered N partners in 2025 (closed "
        "campaign); the 2026 page is the review list: read it, « Tout est comme l'an "
        "dernier », « Envoyer »; a first pass reads each review page once (CPU per page)",
    )
    p.add_argument(
        "--gzip",
        action="store_true",
        help="page flows: ask for gzip (Accept-Encoding: gzip) as browsers do",
    )
    p.add_argument(
        "--rate",
        type=float,
        help="open loop: respondents arriving per second (default: closed loop, saturation)",
    )
    p.add_argument(
        "--answers",
        choices=ANSWER_SHAPES,
        default="varied",
        help="varied: a spread of answers (about 70 tag rows a submission); limit: the rows of "
        "bench/submit_limit.sql (30 tag rows, for the ratio to pgbench)",
    )
    p.add_argument("--server", choices=["carte", "uvicorn"], default="carte")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    if args.carried and args.flow != "page":
        p.error("--carried goes with --flow page")
    if args.answers != "varied" and args.flow == "page":
        p.error("--answers limit goes with the API flows (full, submit)")
    if args.carried >= args.structures:
        p.error("--carried must be below --structures (partners other than one's own)")

    secret = "bench-load-secret"
    speed = host_speed()
    reset_database(args.url)
    engine = make_engine(args.url)
    t0 = time.perf_counter()
    territory = prepare(engine, secret, args.respondents, args.structures, carried=args.carried)
    territory.answers = args.answers
    print(
        f"prepared {args.respondents} respondents"
        + (f", each carrying {args.carried} partners from 2025" if args.carried else "")
        + f" in {time.perf_counter() - t0:.1f} s"
    )
    # A busy machine (other jobs) can take more than the default 30 s to start the workers.
    server = start_server(
        args.url,
        secret,
        args.workers,
        kind=args.server,
        probe_token=territory.jobs[0].token,
        timeout=START_TIMEOUT_S,
    )
    backend = make_url(args.url).get_backend_name()
    database = make_url(args.url).database if backend == "postgresql" else None
    review: dict = {}
    try:
        # Warm every worker (imports, connection pools, templates) with reads before measuring.
        asyncio.run(
            _warm(server.base_url, territory.jobs[0].token, 4 * args.workers, args.flow == "page")
        )
        if args.carried:
            plain, gzipped = page_bytes(server.base_url, f"/q/{territory.jobs[-1].token}")
            review["bytes"], review["gzip_bytes"] = plain, gzipped
            packed = "not compressed by the server when asked"
            if gzipped is not None:
                packed = f"{gzipped:,} gzip-compressed ({gzipped / plain:.0%})"
            print(f"review page of {args.carried} carried partners: {plain:,} bytes, {packed}")
            cpu_before = cpu_by_group(server.process.pid, database)
            reads = run_async(
                drive(
                    server.base_url,
                    territory.jobs,
                    territory.organisation_ids,
                    args.concurrency,
                    args.duration,
                    "review",
                    rate=args.rate,
                    carried=args.carried,
                    gzip=args.gzip,
                )
            )
            cpu = _cpu_delta(
                cpu_before, cpu_by_group(server.process.pid, database), reads.client_cpu
            )
            print(
                f"\nreview pages alone ({'gzip' if args.gzip else 'uncompressed'}), "
                f"each respondent's page read once, concurrency {args.concurrency}:"
            )
            review["latency_ms"] = _print_run(reads, cpu, "page", bool(cpu_before))
            n_pages = len(reads.latencies["review"])
            if n_pages:
                review["cpu_ms_per_page"] = {k: v / n_pages * 1000 for k, v in cpu.items()}
                review["pages_per_s"] = n_pages / reads.elapsed
            review["errors"] = dict(reads.errors)
        cpu_before = cpu_by_group(server.process.pid, database)
        run = run_async(
            drive(
                server.base_url,
                territory.jobs,
                territory.organisation_ids,
                args.concurrency,
                args.duration,
                args.flow,
                rate=args.rate,
                carried=args.carried,
                gzip=args.gzip,
                shape=territory.answers,
            )
        )
        cpu_after = cpu_by_group(server.process.pid, database)
    finally:
        server.stop()
    problems = check_database(engine, territory, run.outcomes)
    engine.dispose()

    print(
        f"\n{backend}, {args.workers} worker(s), flow {args.flow}"
        + (f" ({args.carried} carried partners)" if args.carried else "")
        + (", gzip" if args.gzip else "")
        + f", server {args.server}, "
        + (
            f"open loop at {args.rate:g} respondents/s (at most {args.concurrency} at once; "
            f"{run.most_in_flight} at most seen)"
            if args.rate
            else f"closed loop, {args.concurrency} concurrent"
        )
    )
    cpu = _cpu_delta(cpu_before, cpu_after, run.client_cpu)
    per = "step" if args.flow == "page" else "request"
    latency = _print_run(run, cpu, per, bool(cpu_before))
    print(f"host speed: {speed:.0f} ms for the reference loop (lower is faster)")
    results = {
        "backend": backend,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "flow": args.flow,
        "carried": args.carried,
        "gzip": args.gzip,
        "rate": args.rate,
        "most_in_flight": run.most_in_flight,
        "server": args.server,
        "respondents": len(run.outcomes),
        "submissions": run.submissions,
        "elapsed": run.elapsed,
        "submissions_per_s": run.submissions / run.elapsed,
        "client_cpu": run.client_cpu,
        "cpu_seconds": cpu,
        "host_speed_ms": speed,
        "errors": dict(run.errors),
        "problems": problems,
        "latency_ms": latency,
    }
    if review:
        results["review_page"] = review
    if args.carried:
        verdict = f"every acknowledged respondent's response holds its {args.carried} carried "
        verdict += "partners, all confirmed; acknowledged submissions are submitted"
    else:
        verdict = "every acknowledged submission is stored, submitted and complete"
    print(
        "database check: "
        + (verdict if not problems else f"{len(problems)} PROBLEMS: {problems[:10]}")
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if problems else 0


async def _warm(base_url: str, token: str, n: int, page: bool = False) -> None:
    """`n` API reads of one questionnaire, and as many reads of its page with `page`."""
    paths = [f"/api/v1/questionnaire/{token}"] + ([f"/q/{token}"] if page else [])
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for path in paths:
            await asyncio.gather(*(client.get(path) for _ in range(n)))


if __name__ == "__main__":
    sys.exit(main())
