"""From stored answers to the partnership graph: SQL aggregation, then networkx.

Only links of SUBMITTED responses whose status is "new" or "confirmed" are ties. Every count
is computed by the database (GROUP BY respondent structure, partner structure); Python only
walks the aggregated rows (one per tie, per tie and tag, per structure).

Structure level (`build_graph`): node = structure (merged structures follow `merged_into_id`
to the structure that absorbed them), edge A→B = at least one professional of A named B.
Service level (`build_service_graph`): node = a service, or the structure itself when no
service was given ("o<id>" / "s<id>" keys), same edge attributes.

No professional's name, e-mail or id is put in the graph: it can be exported as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from sqlalchemy import Select, case, distinct, exists, func, literal, select, union
from sqlalchemy.sql.selectable import CTE
from sqlmodel import Session

from survey import fields, vocab
from survey.db import table_of
from survey.models import (
    Campaign,
    DeclaredLink,
    Invitation,
    LinkTag,
    Organisation,
    Professional,
    Response,
    Service,
)

COUNTED_LINK_STATUSES = ("new", "confirmed")
NATURE_CODES = tuple(vocab.NATURES)  # formal, informal, both
FREQUENCY_CODES = tuple(vocab.FREQUENCIES)
# The partner questions the graph counts per code on each tie, as the registry says
# (`survey.fields`): LinkTag kind -> (the edge attribute, its codes).
_TAG_PIVOTS = {
    f.tag_kind: (f.name, tuple(f.vocabulary or ()))
    for f in fields.LINK_FIELDS
    if f.aggregate == "tag_counts" and f.tag_kind is not None
}
TAG_KINDS = tuple(_TAG_PIVOTS)
_MAX_MERGE_DEPTH = 20  # a merge chain longer than this is a data error; stop following it

_org = table_of(Organisation)
_resp = table_of(Response)
_link = table_of(DeclaredLink)
_tag = table_of(LinkTag)
_pro = table_of(Professional)
_inv = table_of(Invitation)
_svc = table_of(Service)


@dataclass(frozen=True)
class GraphFilter:
    """What is shown. Empty values mean "no filter".

    org_types keeps structures of those types (and ties between them); nature "formal" keeps
    declarations answered formal or both, "informal" those answered informal or both;
    thematique and frequency keep declarations tagged with / answered at that value.
    Structures stay in the graph when a link filter removes their ties.
    """

    org_types: frozenset[str] = field(default_factory=frozenset)
    nature: str | None = None
    thematique: str | None = None
    frequency: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "org_types": sorted(self.org_types),
            "nature": self.nature,
            "thematique": self.thematique,
            "frequency": self.frequency,
        }


NO_FILTER = GraphFilter()


def canonical_cte(territory_id: int) -> CTE:
    """(id, root): every structure reachable from a root of the territory by merges, mapped
    to that root (the structure that still exists). Recursive CTE, SQLite and PostgreSQL."""
    base = select(_org.c.id.label("id"), _org.c.id.label("root"), literal(0).label("depth")).where(
        _org.c.territory_id == territory_id, _org.c.merged_into_id.is_(None)
    )
    canon = base.cte("canon", recursive=True)
    child = _org.alias("merged_child")
    return canon.union_all(
        select(child.c.id, canon.c.root, canon.c.depth + 1).where(
            child.c.merged_into_id == canon.c.id, canon.c.depth < _MAX_MERGE_DEPTH
        )
    )


def declarations_cte(campaign: Campaign, flt: GraphFilter, canon: CTE) -> CTE:
    """One row per counted declaration: link_id, pro, src, dst (canonical structures),
    src_service, dst_service, nature, frequency, quality. Self-ties are dropped."""
    co = canon.alias("co")
    cp = canon.alias("cp")
    q = (
        select(
            _link.c.id.label("link_id"),
            _resp.c.professional_id.label("pro"),
            co.c.root.label("src"),
            cp.c.root.label("dst"),
            _resp.c.service_id.label("src_service"),
            _link.c.partner_service_id.label("dst_service"),
            _link.c.nature,
            _link.c.frequency,
            _link.c.quality,
        )
        .select_from(
            _link.join(_resp, _resp.c.id == _link.c.response_id)
            .join(co, co.c.id == _resp.c.organisation_id)
            .join(cp, cp.c.id == _link.c.partner_organisation_id)
        )
        .where(
            _resp.c.campaign_id == campaign.id,
            _resp.c.status == "submitted",
            _link.c.status.in_(COUNTED_LINK_STATUSES),
            co.c.root != cp.c.root,
        )
    )
    if flt.org_types:
        oa = _org.alias("src_org")
        ob = _org.alias("dst_org")
        types = sorted(flt.org_types)
        q = (
            q.join(oa, oa.c.id == co.c.root)
            .join(ob, ob.c.id == cp.c.root)
            .where(oa.c.type.in_(types), ob.c.type.in_(types))
        )
    if flt.nature:
        q = q.where(_link.c.nature.in_((flt.nature, "both")))
    if flt.frequency:
        q = q.where(_link.c.frequency == flt.frequency)
    if flt.thematique:
        q = q.where(
            exists().where(
                _tag.c.link_id == _link.c.id,
                _tag.c.kind == "thematique",
                _tag.c.code == flt.thematique,
            )
        )
    return q.cte("decl")


def _edge_columns(d: CTE) -> list:
    cols = [
        func.count(distinct(d.c.pro)).label("carriers"),
        func.count().label("declarations"),
        func.avg(d.c.quality).label("quality_mean"),
    ]
    cols += [func.sum(case((d.c.nature == c, 1), else_=0)).label(f"n_{c}") for c in NATURE_CODES]
    cols += [
        func.sum(case((d.c.frequency == c, 1), else_=0)).label(f"f_{c}") for c in FREQUENCY_CODES
    ]
    return cols


def _edge_attrs(row) -> dict[str, object]:
    m = row._mapping
    return {
        "carriers": int(m["carriers"]),
        "declarations": int(m["declarations"]),
        **{c: int(m[f"n_{c}"] or 0) for c in NATURE_CODES},
        "frequencies": {c: int(m[f"f_{c}"] or 0) for c in FREQUENCY_CODES},
        **{name: {} for name, _ in _TAG_PIVOTS.values()},
        "quality_mean": None if m["quality_mean"] is None else round(float(m["quality_mean"]), 3),
    }


TAG_CODES = {kind: codes for kind, (_, codes) in _TAG_PIVOTS.items()}


TAG_NAMES = [(kind, code) for kind, codes in TAG_CODES.items() for code in codes]
# With no code shared by two kinds, a tag row (already filtered on TAG_KINDS) is matched on
# its code alone: one comparison per pivot column instead of two.
_CODES_DISJOINT = len({code for _, code in TAG_NAMES}) == len(TAG_NAMES)


def _tag_columns(keys: list, d: CTE) -> Select:
    """One row per tie: the number of its declarations tagged with each practice and
    thématique (a pivot in SQL, so the database returns one row per tie, not per tag).
    Columns tag_0… follow TAG_NAMES."""
    cols = [
        func.count()
        .filter(
            (_tag.c.code == code)
            if _CODES_DISJOINT
            else ((_tag.c.kind == kind) & (_tag.c.code == code))
        )
        .label(f"tag_{i}")
        for i, (kind, code) in enumerate(TAG_NAMES)
    ]
    return (
        select(*keys, *cols)
        .select_from(d.join(_tag, _tag.c.link_id == d.c.link_id))
        .where(_tag.c.kind.in_(TAG_KINDS))
        .group_by(*keys)
    )


_TAG_TARGETS = [(_TAG_PIVOTS[kind][0], code) for kind, code in TAG_NAMES]


def _tag_counts(attrs: dict, counts) -> None:
    for (target, code), n in zip(_TAG_TARGETS, counts, strict=True):
        if n:
            attrs[target][code] = int(n)


def _add_tags(g: nx.DiGraph, rows, key_len: int, node_key) -> None:
    succ = g.succ
    half = key_len // 2
    for row in rows:
        src, dst = node_key(row[:half]), node_key(row[half:key_len])
        attrs = succ.get(src, {}).get(dst)
        if attrs is None:
            continue
        _tag_counts(attrs, row[key_len:])


def _ties(d: CTE) -> Select:
    """One row per structure tie: its edge columns (_edge_columns) and its tag pivot
    (tag_0…), in one statement. The declarations CTE is referenced twice, so PostgreSQL and
    SQLite materialise it once instead of joining responses and links again per query."""
    e = select(d.c.src, d.c.dst, *_edge_columns(d)).group_by(d.c.src, d.c.dst).subquery("e")
    t = _tag_columns([d.c.src, d.c.dst], d).subquery("t")
    # Ordered: the same data give the same graph, edge for edge, on both databases.
    return (
        select(e, *(t.c[f"tag_{i}"] for i in range(len(TAG_NAMES))))
        .select_from(e.outerjoin(t, (t.c.src == e.c.src) & (t.c.dst == e.c.dst)))
        .order_by(e.c.src, e.c.dst)
    )


def _participation_people(campaign: Campaign) -> Select:
    """Invited professionals (a live invitation for the campaign, or a submitted response)
    with the structure and service they are counted in (where they answered, else their
    current one) and whether they responded."""
    r = _resp.alias("sub")
    invited = exists().where(
        _inv.c.professional_id == _pro.c.id,
        _inv.c.campaign_id == campaign.id,
        _inv.c.revoked_at.is_(None),
    )
    return (
        select(
            _pro.c.id.label("pro"),
            func.coalesce(r.c.organisation_id, _pro.c.organisation_id).label("org"),
            case((r.c.id.is_(None), _pro.c.service_id), else_=r.c.service_id).label("service"),
            case((r.c.id.is_(None), 0), else_=1).label("responded"),
        )
        .select_from(
            _pro.outerjoin(
                r,
                (r.c.professional_id == _pro.c.id)
                & (r.c.campaign_id == campaign.id)
                & (r.c.status == "submitted"),
            )
        )
        .where(_pro.c.territory_id == campaign.territory_id, r.c.id.is_not(None) | invited)
    )


def _structures(session: Session, territory_id: int) -> dict[int, dict[str, object]]:
    """Root structures of the territory (merged ones excluded), with their attributes."""
    rows = session.execute(
        select(_org.c.id, _org.c.name, _org.c.type, _org.c.commune, _org.c.status).where(
            _org.c.territory_id == territory_id, _org.c.merged_into_id.is_(None)
        )
    )
    return {
        r.id: {
            "name": r.name,
            "type": r.type,
            "type_label": vocab.org_type_label(r.type),
            "commune": r.commune or "",
            "status": r.status,
            "proposed": r.status == "proposed",
        }
        for r in rows
    }


def build_graph(session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER) -> nx.DiGraph:
    """Structure-level graph of a campaign.

    Node attributes: name, type, type_label, commune, proposed, invited, responded,
    answered, link_carriers (distinct professionals carrying at least one of its ties, in
    either direction). Edge attributes: carriers, declarations, formal, informal, both,
    frequencies {code: n}, practices {code: n}, thematiques {code: n}, quality_mean.
    """
    canon = canonical_cte(campaign.territory_id)
    d = declarations_cte(campaign, flt, canon)
    g = nx.DiGraph(
        campaign_id=campaign.id,
        territory_id=campaign.territory_id,
        year=campaign.year,
        level="structure",
        filters=flt.as_dict(),
    )
    structures = _structures(session, campaign.territory_id)

    people = _participation_people(campaign).subquery()
    part = session.execute(
        select(
            canon.c.root,
            func.count(distinct(people.c.pro)).label("invited"),
            func.coalesce(func.sum(people.c.responded), 0).label("responded"),
        )
        .select_from(people.join(canon, canon.c.id == people.c.org))
        .group_by(canon.c.root)
    ).all()
    participation = {r.root: (int(r.invited), int(r.responded)) for r in part}

    edges = session.execute(_ties(d)).all()
    u = union(
        select(d.c.src.label("node"), d.c.pro.label("pro")),
        select(d.c.dst.label("node"), d.c.pro.label("pro")),
    ).subquery()
    link_carriers = dict(session.execute(select(u.c.node, func.count()).group_by(u.c.node)).all())

    # The node set does not depend on link filters: a structure stays when its ties are hidden.
    named = set(link_carriers)
    if flt.nature or flt.thematique or flt.frequency:
        full = declarations_cte(campaign, NO_FILTER, canon)
        named = set(session.scalars(select(full.c.src).union(select(full.c.dst))).all())
    shown = {
        oid
        for oid, s in structures.items()
        if s["status"] == "active" or oid in participation or oid in named
    }
    if flt.org_types:
        shown = {oid for oid in shown if structures[oid]["type"] in flt.org_types}
    for oid in sorted(shown):
        s = structures[oid]
        invited, responded = participation.get(oid, (0, 0))
        g.add_node(
            oid,
            **{k: v for k, v in s.items() if k != "status"},
            invited=invited,
            responded=responded,
            answered=responded > 0,
            link_carriers=int(link_carriers.get(oid, 0)),
        )
    first_tag = len(edges[0]) - len(TAG_NAMES) if edges else 0
    for row in edges:
        if row.src in shown and row.dst in shown:
            attrs = _edge_attrs(row)
            _tag_counts(attrs, row[first_tag:])
            g.add_edge(row.src, row.dst, **attrs)
    return g


def _service_key(org_id: int, service_id: int | None) -> str:
    return f"s{service_id}" if service_id is not None else f"o{org_id}"


def build_service_graph(
    session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER
) -> nx.DiGraph:
    """Service-level zoom: respondent's service → partner service when given; a structure
    node ("o<id>") stands for answers that name no service. Same attributes as
    `build_graph`, plus organisation_id and service_id on nodes."""
    canon = canonical_cte(campaign.territory_id)
    d = declarations_cte(campaign, flt, canon)
    g = nx.DiGraph(
        campaign_id=campaign.id,
        territory_id=campaign.territory_id,
        year=campaign.year,
        level="service",
        filters=flt.as_dict(),
    )
    structures = _structures(session, campaign.territory_id)
    keys = [d.c.src, d.c.src_service, d.c.dst, d.c.dst_service]
    edges = session.execute(select(*keys, *_edge_columns(d)).group_by(*keys)).all()

    people = _participation_people(campaign).subquery()
    part = session.execute(
        select(
            canon.c.root,
            people.c.service,
            func.count(distinct(people.c.pro)).label("invited"),
            func.coalesce(func.sum(people.c.responded), 0).label("responded"),
        )
        .select_from(people.join(canon, canon.c.id == people.c.org))
        .group_by(canon.c.root, people.c.service)
    ).all()
    u = union(
        select(d.c.src.label("node"), d.c.src_service.label("svc"), d.c.pro.label("pro")),
        select(d.c.dst.label("node"), d.c.dst_service.label("svc"), d.c.pro.label("pro")),
    ).subquery()
    carriers = session.execute(
        select(u.c.node, u.c.svc, func.count()).group_by(u.c.node, u.c.svc)
    ).all()

    nodes: dict[str, dict[str, Any]] = {}

    def node(org_id: int, service_id: int | None) -> str | None:
        if org_id not in structures:
            return None
        if flt.org_types and structures[org_id]["type"] not in flt.org_types:
            return None
        key = _service_key(org_id, service_id)
        if key not in nodes:
            s = structures[org_id]
            nodes[key] = {
                **{k: v for k, v in s.items() if k not in ("status", "name")},
                "organisation_id": org_id,
                "service_id": service_id,
                "organisation_name": s["name"],
                "name": s["name"],
                "invited": 0,
                "responded": 0,
                "answered": False,
                "link_carriers": 0,
            }
        return key

    for r in part:
        key = node(r.root, r.service)
        if key:
            nodes[key]["invited"] = int(r.invited)
            nodes[key]["responded"] = int(r.responded)
            nodes[key]["answered"] = int(r.responded) > 0
    for org_id, svc, n in carriers:
        key = node(org_id, svc)
        if key:
            nodes[key]["link_carriers"] = int(n)
    kept_edges = []
    for row in edges:
        src, dst = node(row.src, row.src_service), node(row.dst, row.dst_service)
        if src and dst:
            kept_edges.append((src, dst, _edge_attrs(row)))
    service_ids = {a["service_id"] for a in nodes.values() if a["service_id"] is not None}
    if service_ids:
        names = dict(
            session.execute(
                select(_svc.c.id, _svc.c.name).where(_svc.c.id.in_(sorted(service_ids)))
            ).all()
        )
        for a in nodes.values():
            if a["service_id"] is not None:
                a["service_name"] = names.get(a["service_id"], "")
                a["name"] = f"{a['organisation_name']} — {a['service_name']}"
    for key in sorted(nodes):
        g.add_node(key, **nodes[key])
    g.add_edges_from(kept_edges)
    _add_tags(
        g,
        session.execute(_tag_columns(keys, d)).all(),
        4,
        lambda k: _service_key(k[0], k[1]),
    )
    return g
