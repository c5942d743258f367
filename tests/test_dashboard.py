"""The workspace's home page: what it counts says what it counts."""

from __future__ import annotations

import re
from html import unescape

from sqlmodel import func, select

from survey.models import Organisation
from tests.accounts_helpers import login, make_user
from tests.factories import build_world


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_directory_line_adds_the_proposed_structures_to_the_active_ones(client, session):
    """The active structures do not include the proposed ones: « 29 actives, dont 3
    proposées » had the coordinator look for 3 among the 29 (the map showed 32)."""
    world = build_world(session)
    session.add(
        Organisation(
            territory_id=world.territory.id,
            name="Collectif X",
            type="association",
            status="proposed",
        )  # fmt: skip
    )
    session.commit()
    active = session.exec(
        select(func.count())
        .select_from(Organisation)
        .where(Organisation.territory_id == world.territory.id, Organisation.status == "active")
    ).one()
    make_user(session, "coord-home@example.org", territory=world.territory)
    login(client, "coord-home@example.org")
    text = _text(client.get(f"/t/{world.territory.code}/").text)
    assert (
        f"Répertoire : {active} structures actives, et 1 proposée par des répondants, "
        "à vérifier." in text
    )
    assert "dont" not in text.split("Répertoire :")[1].split(".")[0]
