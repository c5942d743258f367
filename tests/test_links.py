"""Personal links: unguessable, revocable, re-issuable, useless without the server's secret,
and read-only once the campaign is closed."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from survey import links
from survey.models import Invitation, Response
from tests.conftest import TEST_SECRET
from tests.factories import build_world

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.fixture
def world(session):
    return build_world(session)


def api(token: str, suffix: str = "") -> str:
    return f"/api/v1/questionnaire/{token}{suffix}"


def test_tokens_are_long_urlsafe_and_unpredictable(session, world):
    bruno = world.pros["bruno"]
    tokens = [links.issue(session, TEST_SECRET, world.this_year, bruno) for _ in range(300)]
    session.commit()
    # The design (README, docs/security.md): 192-bit tokens, i.e. 32 base64url characters;
    # the literal, not the constant read back (issue 19: 22 characters must fail).
    assert all(len(t) == 32 and URLSAFE.match(t) for t in tokens)
    assert links.TOKEN_LENGTH * math.log2(64) == 192
    assert len(set(tokens)) == len(tokens)
    # The nonce behind them carries at least 128 bits.
    nonces = session.exec(
        select(Invitation.nonce).where(Invitation.professional_id == bruno.id)
    ).all()
    assert len(set(nonces)) == len(nonces) and min(len(n) for n in nonces) * 6 >= 128
    # No visible bias: every base64url symbol shows up, none dominates (300 × 32 draws).
    symbols = Counter("".join(tokens))
    assert len(symbols) == 64
    assert max(symbols.values()) < 3 * len(tokens) * links.TOKEN_LENGTH / 64
    # Only the latest one works.
    assert [t for t in tokens if links.find(session, t)] == [tokens[-1]]


def test_find_revoke_and_reissue(session, client, world):
    alice = world.pros["alice"]
    first = world.tokens["alice"]
    inv = links.find(session, first)
    assert inv is not None and inv.professional_id == alice.id
    assert links.ensure(session, TEST_SECRET, world.this_year, alice) == first
    assert client.get(api(first)).status_code == 200

    second = links.issue(session, TEST_SECRET, world.this_year, alice)
    session.commit()
    assert second != first
    assert links.find(session, first) is None
    assert links.find(session, second).professional_id == alice.id
    old = client.get(api(first))
    assert old.status_code == 404 and "lien" in old.json()["detail"]
    assert client.get(api(second)).json()["respondent"]["full_name"] == "Alice Martin"

    assert links.revoke(session, world.this_year.id, alice.id) == 1
    session.commit()
    assert links.find(session, second) is None
    assert client.get(api(second)).status_code == 404
    assert client.put(api(second), json={}).status_code == 404

    third = links.ensure(session, TEST_SECRET, world.this_year, alice)
    session.commit()
    assert third not in (first, second)
    assert client.get(api(third)).status_code == 200
    # Revoking touched only Alice's 2026 link: her 2025 link and Bruno's still work.
    assert links.find(session, world.tokens["alice_2025"]) is not None
    assert links.find(session, world.tokens["bruno"]) is not None


@pytest.mark.parametrize(
    "token", ["", "abc", "é" * 32, "x" * 33, "../" * 11 + "x", "A" * 31 + "\x00"]
)
def test_malformed_tokens_find_nothing(session, client, world, token):
    assert links.find(session, token) is None
    if token and "/" not in token and "\x00" not in token:
        assert client.get(api(token)).status_code == 404


def test_a_copy_of_the_database_yields_no_working_link(session, world):
    live = [world.tokens[k] for k in ("alice", "bruno", "chloe", "alice_2025")]
    # Every column of every table, as a thief holding a dump would see it.
    dump: list[str] = []
    with session.get_bind().connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                dump += [str(v) for v in row if v is not None]
    assert dump
    for token in live:
        assert not any(token in value for value in dump)
    stored = {i.token_hash for i in session.exec(select(Invitation))}
    assert {links.hash_token(t) for t in live} <= stored
    for inv in session.exec(select(Invitation).where(Invitation.revoked_at.is_(None))):
        # What is stored cannot be used as a link…
        assert links.find(session, inv.token_hash[: links.TOKEN_LENGTH]) is None
        assert links.find(session, inv.nonce[: links.TOKEN_LENGTH]) is None
        # …and without the secret the nonce derives another, useless token.
        guessed = links.derive_token("not-the-secret", inv.nonce)
        assert guessed != links.token_for(TEST_SECRET, inv)
        assert links.find(session, guessed) is None
        # The server, which knows the secret, can print the live link again.
        assert links.token_for(TEST_SECRET, inv) in live


def test_closed_campaign_refuses_writes_through_the_api(session, client, world):
    # The 2025 campaign is closed: Alice can read what she sent, not change it.
    old = world.tokens["alice_2025"]
    body = client.get(api(old)).json()
    assert body["can_write"] is False and body["source"] == "submitted"
    for r in (client.put(api(old), json=body), client.post(api(old, "/submit"))):
        assert r.status_code == 409
        assert "close" in r.json()["detail"]

    # When the 2026 campaign closes, its links stop accepting answers too.
    token = world.tokens["bruno"]
    draft = {
        "declared_partner_count": 1,
        "links": [{"partner_organisation_id": world.orgs["ccas"].id}],
    }
    assert client.put(api(token), json=draft).status_code == 200
    world.this_year.status = "closed"
    session.add(world.this_year)
    session.commit()
    refused = client.put(api(token), json={**draft, "declared_partner_count": 7})
    assert refused.status_code == 409
    assert "2026" in refused.json()["detail"] and "close" in refused.json()["detail"]
    assert client.post(api(token, "/submit")).status_code == 409
    session.expire_all()
    response = session.exec(
        select(Response).where(
            Response.campaign_id == world.this_year.id,
            Response.professional_id == world.pros["bruno"].id,
        )
    ).one()
    assert response.status == "draft" and response.declared_partner_count == 1
    assert client.get(api(token)).json()["can_write"] is False


def test_stored_token_columns_are_hashes(session, world):
    """The invitation table keeps a nonce and SHA-256(token): 64 hex characters."""
    with session.get_bind().connect() as conn:
        rows = conn.execute(text("SELECT nonce, token_hash FROM invitation")).all()
    assert rows
    for nonce, token_hash in rows:
        assert re.fullmatch(r"[0-9a-f]{64}", token_hash)
        assert URLSAFE.match(nonce)
