"""Two tabs (or two devices) saving different versions at the same moment: one complete
version is stored, never a mix of the two, and neither save fails with a server error."""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from survey.models import DeclaredLink, Response
from survey.questionnaire import Answers, LinkAnswer, respondent_for_token, save
from tests.factories import build_world

ROUNDS = 6


def _version(partner_ids: list[int], nature: str) -> Answers:
    return Answers(
        links=[
            LinkAnswer(partner_organisation_id=i, nature=nature, practices=["referral"])
            for i in partner_ids
        ]
    )


def _tab(engine, token, name, answers, barrier, results, errors) -> None:
    """One tab: read the respondent, wait for the other tab, submit."""
    try:
        with Session(engine, expire_on_commit=False) as s:
            r = respondent_for_token(s, token)
            barrier.wait(timeout=10)
            results[name] = save(s, r, answers, submit=True).ok
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_two_simultaneous_submissions_store_one_whole_version(engine, session):
    world = build_world(session)
    session.commit()
    o = world.orgs
    versions = {
        "a": _version([o["caf"].id, o["siao"].id], "formal"),
        "b": _version([o["msa"].id], "informal"),
    }
    expected = {
        "a": {(o["caf"].id, "formal"), (o["siao"].id, "formal")},
        "b": {(o["msa"].id, "informal")},
    }
    token = world.tokens["bruno"]  # no answer yet: both tabs start from an empty form
    for _ in range(ROUNDS):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        results: dict[str, bool] = {}

        threads = [
            threading.Thread(
                target=_tab, args=(engine, token, n, versions[n], barrier, results, errors)
            )
            for n in versions
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert results == {"a": True, "b": True}

        with Session(engine) as s:
            responses = s.exec(
                select(Response).where(Response.professional_id == world.pros["bruno"].id)
            ).all()
            assert len(responses) == 1 and responses[0].status == "submitted"
            stored = {
                (lk.partner_organisation_id, lk.nature)
                for lk in s.exec(
                    select(DeclaredLink).where(DeclaredLink.response_id == responses[0].id)
                )
            }
        assert stored in (expected["a"], expected["b"]), stored
        # The next round starts from scratch: both tabs create the response again.
        with Session(engine) as s:
            for row in s.exec(select(Response).where(Response.id == responses[0].id)):
                s.delete(row)
            s.commit()
