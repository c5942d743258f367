"""survey.db.insert_rows: one statement for many rows, exact values back, in order."""

from __future__ import annotations

from sqlmodel import Session, select

from survey.db import insert_rows
from survey.models import Organisation, Service, Territory, utcnow

TRICKY = ['simple', 'guillemets "doubles"', "apostrophe l'asso", "barre \\ oblique \\\\", "{accolades}",
          "virgule, point-virgule;", "NULL", "", "  espaces  ", "émoji 🙂 accentué", "ligne\nsuivante"]  # fmt: skip


def test_insert_rows_keeps_every_value_and_the_order(engine):
    with Session(engine) as s:
        t = Territory(code="99", name="Essai")
        s.add(t)
        s.commit()
        now = utcnow()
        rows = [
            {"territory_id": t.id, "name": name, "type": "autre", "commune": name[:3],
             "siret": None if i % 2 else f"{i:014d}", "missions": name * 2, "status": "active",
             "merged_into_id": None, "proposed_by_id": i if i % 3 else None, "created_at": now}
            for i, name in enumerate(TRICKY)
        ]  # fmt: skip
        ids = insert_rows(s, Organisation.__table__, rows, returning=Organisation.__table__.c.id)
        assert len(ids) == len(TRICKY) == len(set(ids))
        # Booleans and NULLs in a table without RETURNING.
        insert_rows(
            s,
            Service.__table__,
            [{"organisation_id": ids[i], "name": f"S{i}", "active": i % 2 == 0} for i in range(4)],
        )
        s.commit()
    with Session(engine) as s:
        stored = {o.id: o for o in s.exec(select(Organisation))}
        for org_id, row in zip(ids, rows, strict=True):
            o = stored[org_id]
            assert (o.name, o.commune, o.siret, o.missions, o.proposed_by_id) == (
                row["name"], row["commune"], row["siret"], row["missions"], row["proposed_by_id"]
            )  # fmt: skip
        services = {sv.name: sv for sv in s.exec(select(Service))}
        assert [services[f"S{i}"].active for i in range(4)] == [True, False, True, False]
        assert [services[f"S{i}"].organisation_id for i in range(4)] == ids[:4]


def test_insert_rows_with_no_rows_does_nothing(engine):
    with Session(engine) as s:
        assert (
            insert_rows(s, Organisation.__table__, [], returning=Organisation.__table__.c.id) == []
        )
        assert s.exec(select(Organisation)).all() == []
