"""The API's write path: the respondent read as plain columns (`detached_respondent`), the
partners checked from that same query on PostgreSQL, and the answers written by one statement
there (`_write`). Each is held to what the ORM path reads and writes."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from survey import tagbits
from survey.db import table_of
from survey.models import (
    DeclaredLink,
    LinkTag,
    Response,
    ResponseBody,
    ResponseObstacle,
)
from survey.questionnaire import (
    Answers,
    LinkAnswer,
    _pg_execute,
    check,
    detached_respondent,
    respondent_for_token,
    save,
)
from tests.factories import build_world

NOT_IN_TERRITORY = "Ce partenaire n'existe pas dans le répertoire de votre territoire."


@pytest.fixture
def world(session):
    return build_world(session)


def url(token: str, suffix: str = "") -> str:
    return f"/api/v1/questionnaire/{token}{suffix}"


def _columns(obj) -> dict:
    return {c.key: getattr(obj, c.key) for c in table_of(type(obj)).c}


@pytest.mark.parametrize("who", ["alice", "bruno", "alice_2025"])
def test_detached_respondent_reads_what_the_orm_reads(engine, world, who):
    token = world.tokens[who]
    with Session(engine) as s:
        orm = respondent_for_token(s, token)
        assert orm is not None
        expected = {
            name: None if obj is None else _columns(obj)
            for name, obj in vars(orm).items()
            if name != "partners"
        }
    with Session(engine) as s:
        r = detached_respondent(s, token)
        assert r is not None
        got = {
            name: None if obj is None else _columns(obj)
            for name, obj in vars(r).items()
            if name != "partners"
        }
    assert got == expected
    # alice_2025 is the 2025 link: her submitted 2025 answer comes with it.
    assert (got["response"] is not None) == (who == "alice_2025")
    assert got["professional"]["full_name"] == ("Bruno Petit" if who == "bruno" else "Alice Martin")


def test_unknown_or_malformed_link_reads_nothing(engine, world):
    with Session(engine) as s:
        assert detached_respondent(s, "x" * 32) is None
        assert detached_respondent(s, "not a token") is None


def test_partners_come_with_the_respondent_and_check_refuses_the_same(engine, world):
    o = world.orgs
    assert world.foreign_org is not None
    asked = {o["caf"].id, o["old"].id, world.foreign_org.id, 999_999}
    answers = Answers(
        links=[
            LinkAnswer(partner_organisation_id=i, nature="formal", practices=["referral"])
            for i in (o["caf"].id, o["old"].id, world.foreign_org.id, 999_999)
        ]
    )
    with Session(engine) as s:
        r = detached_respondent(s, world.tokens["bruno"], asked)
        assert r is not None
        problems = check(s, r, answers, submitting=True)
    with Session(engine) as s:
        plain = respondent_for_token(s, world.tokens["bruno"])
        assert plain is not None and plain.partners is None
        expected = check(s, plain, answers, submitting=True)
    if engine.dialect.name == "postgresql":
        assert r.partners is not None and r.partners.asked == asked
        # Only the territory's structures, with their state: the archived one is refused by
        # check, the other territory's and the unknown id are not there at all.
        assert {p.id: (p.status, p.name) for p in r.partners.rows.values()} == {
            o["caf"].id: ("active", "CAF de la Creuse"),
            o["old"].id: ("archived", "Ancienne association"),
        }
    else:  # SQLite: check reads them itself
        assert r.partners is None
    assert problems == expected
    # CAF passes; the archived, the foreign and the unknown partner are refused, in order.
    assert [(p.field, p.message) for p in problems] == [
        (f"links.{i}.partner_organisation_id", NOT_IN_TERRITORY) for i in (1, 2, 3)
    ]


def test_partners_not_asked_for_are_read_by_check(engine, world):
    """A respondent read for some partners, checked against answers naming another: check
    reads the directory itself rather than trusting an incomplete list."""
    o = world.orgs
    with Session(engine) as s:
        r = detached_respondent(s, world.tokens["bruno"], {o["caf"].id})
        assert r is not None
        answers = Answers(
            links=[
                LinkAnswer(
                    partner_organisation_id=o["msa"].id, nature="formal", practices=["referral"]
                )
            ]  # fmt: skip
        )
        assert check(s, r, answers, submitting=True) == []


def _stored(session: Session, response_id: int) -> dict:
    links = session.exec(
        select(DeclaredLink)
        .where(DeclaredLink.response_id == response_id)
        .order_by(DeclaredLink.position)
    ).all()
    tags = session.exec(
        select(LinkTag.link_id, LinkTag.kind, LinkTag.code).where(
            LinkTag.link_id.in_([lk.id for lk in links])  # type: ignore[union-attr]
        )
    ).all()
    return {
        "links": [
            (
                lk.position,
                lk.partner_organisation_id,
                lk.status,
                lk.nature,
                lk.quality,
                lk.tag_bits,
            )  # fmt: skip
            for lk in links
        ],
        "ids_in_order": [lk.id for lk in links] == sorted(lk.id for lk in links),
        "tags": sorted(
            (links.index(next(lk for lk in links if lk.id == i)), k, c) for i, k, c in tags
        ),  # fmt: skip
        "obstacles": sorted(
            session.exec(
                select(ResponseObstacle.code).where(ResponseObstacle.response_id == response_id)
            ).all()
        ),
        "bodies": session.exec(
            select(ResponseBody.body_id).where(ResponseBody.response_id == response_id)
        ).all(),
        "all_tags": session.exec(select(LinkTag)).all(),
    }


def test_submit_then_resave_replaces_every_row(client, session, world):
    """A first answer (the response row written with its links), then a re-save (row updated,
    old answers deleted, new ones written): exactly the answers sent each time."""
    o, token = world.orgs, world.tokens["bruno"]
    first = {
        "years_in_post": "lt1",
        "links": [
            {
                "partner_organisation_id": o["siao"].id,
                "nature": "formal",
                "quality": 4,
                "frames": ["agreement"],
                "practices": ["referral", "joint_visits"],
            },
            {
                "partner_organisation_id": o["msa"].id,
                "nature": "informal",
                "channels": ["phone"],
                "practices": ["rights_access"],
                "thematiques": [],
            },
        ],  # fmt: skip
        "obstacles": ["lack_of_time", "turnover"],
        "body_ids": [world.bodies["siao"].id],
    }
    done = client.post(url(token, "/submit"), json=first)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted"
    response = session.exec(
        select(Response).where(Response.professional_id == world.pros["bruno"].id)
    ).one()
    stored = _stored(session, response.id)
    # tag_bits: the practices (and thématiques) of each link, as survey.tagbits lays them out.
    siao_bits = tagbits.tag_bits([("practice", "referral"), ("practice", "joint_visits")])
    msa_bits = tagbits.tag_bits([("practice", "rights_access")])
    assert stored["links"] == [
        (0, o["siao"].id, "new", "formal", 4, siao_bits),
        (1, o["msa"].id, "new", "informal", None, msa_bits),
    ]
    assert stored["ids_in_order"]
    assert stored["tags"] == [
        (0, "frame", "agreement"),
        (0, "practice", "joint_visits"),
        (0, "practice", "referral"),
        (1, "channel", "phone"),
        (1, "practice", "rights_access"),
    ]
    assert stored["obstacles"] == ["lack_of_time", "turnover"]
    assert stored["bodies"] == [world.bodies["siao"].id]
    assert response.declared_partner_count == 2 and response.years_in_post == "lt1"
    submitted_at = response.submitted_at
    assert submitted_at is not None

    second = {
        "years_in_post": "1to3",
        "links": [
            {
                "partner_organisation_id": o["caf"].id,
                "nature": "informal",
                "channels": ["email"],
                "practices": ["case_conference"],
            },
        ],  # fmt: skip
        "obstacles": ["lack_of_time"],
    }
    put = client.put(url(token), json=second)
    assert put.status_code == 200, put.text
    session.expire_all()
    response = session.get(Response, response.id)
    assert response is not None
    stored = _stored(session, response.id)
    assert stored["links"] == [
        (0, o["caf"].id, "new", "informal", None,
         tagbits.tag_bits([("practice", "case_conference")])),
    ]  # fmt: skip
    assert stored["tags"] == [(0, "channel", "email"), (0, "practice", "case_conference")]
    assert stored["obstacles"] == ["lack_of_time"] and stored["bodies"] == []
    # The old links' tags went with them: only this link's two tags are left for Bruno.
    bruno_links = {lk.id for lk in session.exec(
        select(DeclaredLink).where(DeclaredLink.response_id == response.id)
    )}  # fmt: skip
    assert sum(1 for t in stored["all_tags"] if t.link_id in bruno_links) == 2
    # Still submitted (a submitted answer stays submitted), at its first submission's time.
    assert response.status == "submitted" and response.submitted_at == submitted_at
    assert response.years_in_post == "1to3" and response.declared_partner_count == 1
    assert put.json()["links"][0]["partner_name"] == "CAF de la Creuse"


def test_refused_partner_writes_nothing(client, session, world):
    token = world.tokens["bruno"]
    assert world.foreign_org is not None
    refused = client.post(
        url(token, "/submit"),
        json={
            "links": [
                {
                    "partner_organisation_id": world.foreign_org.id,
                    "nature": "formal",
                    "practices": ["referral"],
                }
            ]
        },  # fmt: skip
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "links.0.partner_organisation_id", "message": NOT_IN_TERRITORY}
    ]
    assert (
        session.exec(
            select(Response).where(Response.professional_id == world.pros["bruno"].id)
        ).all()
        == []
    )


# The driver path is PostgreSQL's: this test only runs there (no skip on SQLite).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_driver_errors_keep_sqlalchemy_types(engine, world):
    """PostgreSQL: a statement run by the driver (`_pg_execute`) fails with SQLAlchemy's
    exception, as every other statement does (save() retries on IntegrityError; the app
    answers 503 on OperationalError)."""
    assert engine.dialect.name == "postgresql"
    with Session(engine) as s, pytest.raises(IntegrityError):
        _pg_execute(
            s,
            "INSERT INTO responseobstacle (response_id, code) VALUES (%(r)s, 'x')",
            {"r": 999_999},
        )


def test_save_with_a_detached_respondent_then_again(engine, world):
    """save() keeps a detached respondent's response up to date: a second save with the same
    object updates the row written by the first."""
    o = world.orgs
    with Session(engine, expire_on_commit=False) as s:
        r = detached_respondent(s, world.tokens["bruno"])
        assert r is not None and r.response is None
        one = Answers(links=[LinkAnswer(partner_organisation_id=o["caf"].id, nature="formal")])
        assert save(s, r, one).ok
        assert r.response is not None and r.response.status == "draft"
        first_id = r.response.id
        two = Answers(
            links=[
                LinkAnswer(
                    partner_organisation_id=o["msa"].id, nature="informal", practices=["referral"]
                )
            ]  # fmt: skip
        )
        assert save(s, r, two, submit=True).ok
        assert r.response.id == first_id and r.response.status == "submitted"
    with Session(engine) as s:
        rows = s.exec(select(Response).where(Response.professional_id == world.pros["bruno"].id))
        (stored,) = rows.all()
        assert stored.status == "submitted" and stored.submitted_at is not None
        partners = s.exec(
            select(DeclaredLink.partner_organisation_id).where(
                DeclaredLink.response_id == stored.id
            )
        ).all()
        assert partners == [o["msa"].id]


# The one-statement write is the point of the PostgreSQL path (docs/performance.md): a save
# that fell back to the portable path writes the same rows, only with more round trips.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_first_answer_and_resave_round_trips(engine, world, monkeypatch):
    """PostgreSQL: a first answer is the respondent's look-up and one write statement; a
    re-save adds the UPDATE and the DELETE of the old answers. Nothing else reaches the
    database through SQLAlchemy (BEGIN and COMMIT are the driver's own)."""
    from sqlalchemy import event

    from survey import questionnaire

    driver: list[str] = []
    real = questionnaire._pg_execute

    def counting(session, sql, params):
        driver.append(sql.lstrip().split(None, 1)[0].upper())
        return real(session, sql, params)

    monkeypatch.setattr(questionnaire, "_pg_execute", counting)
    through_sqlalchemy: list[str] = []
    listen = event.listens_for(engine, "before_cursor_execute")
    o = world.orgs
    caf, msa = o["caf"].id, o["msa"].id  # read before listening: the fixture's objects reload
    listen(lambda _c, _cur, statement, *_a: through_sqlalchemy.append(statement))

    answers = Answers(
        links=[
            LinkAnswer(partner_organisation_id=caf, nature="formal", frames=["agreement"]),
            LinkAnswer(partner_organisation_id=msa, nature="informal"),
        ]
    )
    with Session(engine, expire_on_commit=False) as s:
        r = detached_respondent(s, world.tokens["bruno"], {caf, msa})
        assert r is not None
        assert save(s, r, answers).ok
        assert driver == ["SELECT", "WITH"]  # look-up, then response + links + tags at once
        assert through_sqlalchemy == []

        driver.clear()
        assert save(s, r, answers).ok  # the draft saved again
        assert driver == ["UPDATE", "WITH", "WITH"]  # row, old answers deleted, new written
        assert through_sqlalchemy == []


class _Wire:
    """What the app's connections send to PostgreSQL, read from libpq's trace of each
    connection while it is checked out of the pool (BEGIN and COMMIT included: the driver
    sends them itself, no SQLAlchemy event sees them)."""

    def __init__(self, engine, tmp_path) -> None:
        from sqlalchemy import event

        self.path = tmp_path / "libpq.trace"
        self.file = self.path.open("w")

        def out(dbapi_conn, _record, _proxy) -> None:
            from psycopg.pq import Trace

            dbapi_conn.pgconn.trace(self.file.fileno())
            dbapi_conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)

        def back(dbapi_conn, _record) -> None:
            dbapi_conn.pgconn.untrace()

        event.listen(engine, "checkout", out)
        event.listen(engine, "checkin", back)
        self._remove = lambda: (
            event.remove(engine, "checkout", out),
            event.remove(engine, "checkin", back),
        )

    def read(self) -> dict[str, int]:
        """Since the last read: the statements sent (extended or simple protocol), and the
        BEGIN, COMMIT and ROLLBACK among them counted apart, by name."""
        self.file.flush()
        lines = self.path.read_text().splitlines()
        self.file.truncate(0)
        self.file.seek(0)
        counts = {"statements": 0}
        for line in lines:
            sent = line.split("\t")
            if sent[0] != "F" or sent[2] not in ("Execute", "Query"):
                continue
            text = sent[3].strip().strip('"') if sent[2] == "Query" else ""
            key = text if text in ("BEGIN", "COMMIT", "ROLLBACK") else "statements"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def close(self) -> None:
        self._remove()
        self.file.close()


@pytest.fixture
def wire(engine, tmp_path):
    w = _Wire(engine, tmp_path)
    yield w
    w.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_api_first_answer_is_two_statements_without_begin_or_commit(client, world, wire):
    """PostgreSQL, through the API: a first answer is the look-up and one write, each its own
    transaction (autocommit: no BEGIN and COMMIT round trips); a re-save, three statements
    that must go together, runs between one BEGIN and one COMMIT."""
    o, token = world.orgs, world.tokens["bruno"]
    answers = {"links": [{"partner_organisation_id": o["caf"].id, "nature": "formal",
                          "practices": ["referral"]}]}  # fmt: skip
    wire.read()
    assert client.post(url(token, "/submit"), json=answers).status_code == 200
    assert wire.read() == {"statements": 2}

    assert client.put(url(token), json=answers).status_code == 200
    assert wire.read() == {"statements": 4, "BEGIN": 1, "COMMIT": 1}


def _failing_write(monkeypatch) -> None:
    """The answers' write statement fails after what ran before it in the same save, as when
    it waits for a lock longer than the app's lock_timeout: the app answers 503."""
    from psycopg.errors import LockNotAvailable
    from sqlalchemy.exc import OperationalError

    from survey import questionnaire

    def fail(*_args, **_kwargs):
        raise OperationalError("WITH …", {}, LockNotAvailable("lock timeout"))

    monkeypatch.setattr(questionnaire, "_pg_write", fail)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_resave_failing_midway_keeps_the_previous_answer(client, session, world, monkeypatch):
    """PostgreSQL in autocommit: a re-save updates the row and deletes the old answers before
    writing the new ones. When the last statement fails, the first two are rolled back with
    it: the answer stays as it was, links and all."""
    o, token = world.orgs, world.tokens["bruno"]
    first = {"years_in_post": "lt1", "links": [
        {"partner_organisation_id": o["caf"].id, "nature": "formal", "practices": ["referral"]},
        {"partner_organisation_id": o["msa"].id, "nature": "informal", "practices": ["referral"]},
    ]}  # fmt: skip
    assert client.post(url(token, "/submit"), json=first).status_code == 200
    response = session.exec(
        select(Response).where(Response.professional_id == world.pros["bruno"].id)
    ).one()
    before = _stored(session, response.id)
    assert len(before["links"]) == 2

    _failing_write(monkeypatch)
    second = {"years_in_post": "1to3", "links": first["links"][:1]}
    assert client.put(url(token), json=second).status_code == 503
    session.expire_all()
    assert _stored(session, response.id) == before
    assert session.get(Response, response.id).years_in_post == "lt1"  # type: ignore[union-attr]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_first_answer_with_a_write_in_failing_proposes_nothing(client, session, world, monkeypatch):
    """PostgreSQL in autocommit: a partner written in is proposed to the directory by its own
    statement before the answers are written; when writing them fails, the proposal goes too."""
    from survey.models import Organisation

    _failing_write(monkeypatch)
    answers = {"links": [{"write_in": {"name": "Épicerie solidaire du Bourg"},
                          "nature": "informal", "practices": ["referral"]}]}  # fmt: skip
    assert client.put(url(world.tokens["bruno"]), json=answers).status_code == 503
    assert "Épicerie solidaire du Bourg" not in session.exec(select(Organisation.name)).all()
    bruno = world.pros["bruno"].id
    assert session.exec(select(Response).where(Response.professional_id == bruno)).all() == []


def test_stored_answers_are_the_objects_model_construct_makes(engine, world):
    """`save` builds the answers it returns without pydantic's `model_construct` walk: the same
    objects (fields, fields set, dump) as `model_construct` of the same values."""
    o = world.orgs
    with Session(engine, expire_on_commit=False) as s:
        r = detached_respondent(s, world.tokens["bruno"])
        assert r is not None
        sent = Answers(
            function="CESF",
            obstacles=["turnover", "lack_of_time"],
            links=[
                LinkAnswer(partner_organisation_id=o["caf"].id, nature="formal",
                           frames=["agreement"], practices=["referral", "joint_visits"]),
                LinkAnswer(partner_organisation_id=o["msa"].id, nature="informal",
                           has_named_contact=True, contact_name="Mme Roux", quality=3),
            ],
        )  # fmt: skip
        result = save(s, r, sent)
    assert result.ok and result.stored is not None
    stored = result.stored
    links = [LinkAnswer.model_construct(**link.__dict__) for link in stored.links]
    again = Answers.model_construct(**{**stored.__dict__, "links": links})
    assert stored == again and stored.model_fields_set == again.model_fields_set
    assert stored.model_dump() == again.model_dump()
    for built in (stored, *stored.links):  # nothing more in them than model_construct puts
        assert list(vars(built)) == list(type(built).model_fields)
        assert built.__pydantic_private__ is None and built.__pydantic_extra__ is None
    for link, constructed in zip(stored.links, links, strict=True):
        assert link.model_fields_set == constructed.model_fields_set == set(LinkAnswer.model_fields)
        assert repr(link) == repr(constructed)
    assert stored.obstacles == ["lack_of_time", "turnover"]  # the vocabulary's order
    assert [lk.practices for lk in stored.links] == [["joint_visits", "referral"], []]
