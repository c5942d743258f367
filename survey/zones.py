"""Zones: sub-territories (UTAS, EPCI, bassin de vie…) defined as sets of communes.

A structure is in the zone its coordinator placed it in by hand (`Organisation.zone_id`),
else in the zone holding its commune (matched on the folded name, so « GUERET » and
« Guéret » are the same commune). The zones of a territory form one partition: a commune
is in at most one zone.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlmodel import Session

from survey.db import table_of
from survey.directory import normalize_name
from survey.models import Organisation, Zone, ZoneCommune

_org = table_of(Organisation)
_zone = table_of(Zone)
_zc = table_of(ZoneCommune)


def commune_key(commune: str) -> str:
    """The key a commune is matched on: case, accents, hyphens and apostrophes folded."""
    return normalize_name(commune)


def structure_zones(session: Session, territory_id: int) -> dict[int, tuple[int, str]]:
    """Organisation id -> (zone id, zone name) for every structure of the territory that is
    in a zone (by hand, else by its commune). Structures in no zone are absent."""
    by_hand = _zone.alias("by_hand")
    by_commune = _zone.alias("by_commune")
    zc = _zc.alias("zc")
    rows = session.execute(
        select(
            _org.c.id,
            _org.c.commune,
            by_hand.c.id.label("hand_id"),
            by_hand.c.name.label("hand_name"),
        )
        .select_from(
            _org.outerjoin(
                by_hand,
                and_(by_hand.c.id == _org.c.zone_id, by_hand.c.territory_id == territory_id),
            )
        )
        .where(_org.c.territory_id == territory_id)
    ).all()
    communes = {
        r.key: (r.id, r.name)
        for r in session.execute(
            select(zc.c.key, by_commune.c.id, by_commune.c.name)
            .join(by_commune, by_commune.c.id == zc.c.zone_id)
            .where(by_commune.c.territory_id == territory_id)
        )
    }
    out: dict[int, tuple[int, str]] = {}
    for r in rows:
        if r.hand_id is not None:
            out[r.id] = (r.hand_id, r.hand_name)
        elif r.commune and (found := communes.get(commune_key(r.commune))):
            out[r.id] = found
    return out


def zone_counts(session: Session, territory_id: int) -> dict[int, int]:
    """Zone id -> number of communes it holds."""
    rows = session.execute(
        select(_zone.c.id, func.count(_zc.c.key))
        .select_from(_zone.outerjoin(_zc, _zc.c.zone_id == _zone.c.id))
        .where(_zone.c.territory_id == territory_id)
        .group_by(_zone.c.id)
    )
    return {zid: int(n) for zid, n in rows}


__all__ = ["commune_key", "structure_zones", "zone_counts"]
