"""From stored answers to the partnership graph: SQL aggregation, then networkx.

Only links of SUBMITTED responses whose status is "new" or "confirmed" are ties. Every count
is computed by the database (GROUP BY respondent structure, partner structure); Python only
walks the aggregated rows (one per tie, per tie and tag, per structure).

Structure level (`build_graph`): node = structure (merged structures follow `merged_into_id`
to the structure that absorbed them), edge A→B = at least one professional of A named B.
Service level (`build_service_graph`): node = a service, or the structure itself when no
service was given ("o<id>" / "s<id>" keys), same edge attributes.

No professional's name, e-mail or id is put in the graph: it can be exported as it is.

A closed campaign with a snapshot (`survey.snapshots`) is read from its frozen rows instead
of the live tables (`Source`): the same aggregation runs over the frozen declarations, and
the unfiltered structure graph is read as stored, without aggregation.

The tags counted per code (practices, thématiques) of live declarations are read from each
link's `tag_bits` (`survey.tagbits`, kept at write time): the ties are one GROUP BY over the
links. Frozen declarations count their frozen tag rows, as `build_graph_from_tag_rows` does
for live ones (the reference `tests/test_tag_bits.py` holds the bits to).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any, cast

import networkx as nx
from sqlalchemy import Select, case, distinct, exists, func, literal, select, union
from sqlalchemy.sql.selectable import CTE, FromClause
from sqlmodel import Session

from survey import fields, tagbits, vocab
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
from survey.snapshots import (
    CampaignSnapshot,
    SnapshotDeclaration,
    SnapshotPerson,
    SnapshotService,
    SnapshotStructure,
    SnapshotTag,
    SnapshotTie,
)
from survey.zones import structure_zones

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
_s_org = table_of(SnapshotStructure)
_s_tie = table_of(SnapshotTie)
_s_decl = table_of(SnapshotDeclaration)
_s_tag = table_of(SnapshotTag)
_s_pro = table_of(SnapshotPerson)
_s_svc = table_of(SnapshotService)


@dataclass(frozen=True)
class GraphFilter:
    """What is shown. Empty values mean "no filter".

    org_types keeps structures of those types (and ties between them); nature "formal" keeps
    declarations answered formal or both, "informal" those answered informal or both;
    thematique and frequency keep declarations tagged with / answered at that value; zone (a
    zone's name) keeps the declarations whose respondent's structure is in that zone.
    Structures stay in the graph when a link filter (all but org_types) removes their ties.
    """

    org_types: frozenset[str] = field(default_factory=frozenset)
    nature: str | None = None
    thematique: str | None = None
    frequency: str | None = None
    zone: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "org_types": sorted(self.org_types),
            "nature": self.nature,
            "thematique": self.thematique,
            "frequency": self.frequency,
            "zone": self.zone,
        }

    def filters_links(self) -> bool:
        """True when the filter drops declarations but keeps every structure."""
        return bool(self.nature or self.thematique or self.frequency or self.zone)


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


def merge_roots(session: Session, territory_id: int) -> dict[int, int]:
    """Structure id -> the structure it is part of now: itself, or the one that absorbed it
    (`canonical_cte` read into a dict)."""
    canon = canonical_cte(territory_id)
    return {int(i): int(r) for i, r in session.execute(select(canon.c.id, canon.c.root))}


def declarations_cte(
    campaign: Campaign,
    flt: GraphFilter,
    canon: CTE,
    zone_members: Collection[int] | None = None,
    tag_rows: bool = False,
) -> CTE:
    """One row per counted declaration: link_id, response_id, position, pro, src, dst
    (canonical structures),
    src_service, dst_service, nature, frequency, quality, tag_bits. Self-ties are dropped.

    With `flt.zone`, `zone_members` are the structures of that zone (a commune's zone is
    matched on its folded name, which SQL cannot compute: the caller resolves it).
    `flt.thematique` is read from tag_bits, or from the tag rows with `tag_rows`."""
    co = canon.alias("co")
    cp = canon.alias("cp")
    q = (
        select(
            _link.c.id.label("link_id"),
            _resp.c.id.label("response_id"),
            _link.c.position,
            _resp.c.professional_id.label("pro"),
            co.c.root.label("src"),
            cp.c.root.label("dst"),
            _resp.c.service_id.label("src_service"),
            _link.c.partner_service_id.label("dst_service"),
            _link.c.nature,
            _link.c.frequency,
            _link.c.quality,
            _link.c.tag_bits,
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
    bit = tagbits.BIT.get(("thematique", flt.thematique or ""))
    if flt.thematique and bit is not None and not tag_rows:
        q = q.where(_link.c.tag_bits.op("&")(bit) != 0)
    elif flt.thematique:  # a code without a bit (none of the vocabulary's) can still be stored
        q = q.where(
            exists().where(
                _tag.c.link_id == _link.c.id,
                _tag.c.kind == "thematique",
                _tag.c.code == flt.thematique,
            )
        )
    if flt.zone:
        q = q.where(co.c.root.in_(sorted(zone_members or ())))
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


# The columns of `_edge_columns`, in its order: they come just before the tag columns.
_EDGE_COLUMNS = 3 + len(NATURE_CODES) + len(FREQUENCY_CODES)


def _edge_attrs(row, first_tag: int) -> dict[str, object]:
    """An edge's attributes from its row, whose `_edge_columns` end where its tag columns
    start (`first_tag`), the tag columns following. By position and by slices: the by-name
    look-up of `Row._mapping`, then a loop over the 26 tag columns, were most of the large
    graph's Python time (12,000 ties). The counts need no conversion: COUNT and SUM of
    integers are integers on both databases."""
    start = first_tag - _EDGE_COLUMNS
    carriers, declarations, quality = row[start : start + 3]
    natures = start + 3
    frequencies = natures + len(NATURE_CODES)
    attrs: dict[str, object] = {"carriers": carriers, "declarations": declarations}
    attrs.update(zip(NATURE_CODES, row[natures:frequencies], strict=True))
    attrs["frequencies"] = dict(zip(FREQUENCY_CODES, row[frequencies:first_tag], strict=True))
    if len(row) > first_tag:
        attrs.update(_tag_dicts(row, first_tag))
    else:  # no tag columns: counted apart (`_add_tags`)
        attrs.update((name, {}) for name, *_ in _TAG_SPANS)
    attrs["quality_mean"] = None if quality is None else round(float(quality), 3)
    return attrs


TAG_CODES = {kind: codes for kind, (_, codes) in _TAG_PIVOTS.items()}


TAG_NAMES = [(kind, code) for kind, codes in TAG_CODES.items() for code in codes]
# With no code shared by two kinds, a tag row (already filtered on TAG_KINDS) is matched on
# its code alone: one comparison per pivot column instead of two.
_CODES_DISJOINT = len({code for _, code in TAG_NAMES}) == len(TAG_NAMES)


def _tag_columns(keys: list, d: CTE, tag: FromClause = _tag) -> Select:
    """One row per tie: the number of its declarations tagged with each practice and
    thématique (a pivot in SQL, so the database returns one row per tie, not per tag).
    Columns tag_0… follow TAG_NAMES."""
    cols = [
        func.count()
        .filter(
            (tag.c.code == code)
            if _CODES_DISJOINT
            else ((tag.c.kind == kind) & (tag.c.code == code))
        )
        .label(f"tag_{i}")
        for i, (kind, code) in enumerate(TAG_NAMES)
    ]
    return (
        select(*keys, *cols)
        .select_from(d.join(tag, tag.c.link_id == d.c.link_id))
        .where(tag.c.kind.in_(TAG_KINDS))
        .group_by(*keys)
    )


def _bit_columns(d: CTE) -> list:
    """The `_tag_columns` counts from the declarations' tag_bits (tag_0… follow TAG_NAMES):
    the declarations whose bit of that tag is set, with no join with the tag rows. A
    filtered count of `tag_bits & bit` (SQLite and PostgreSQL alike) measured a little
    faster on SQLite than summing `(tag_bits >> i) & 1` (0.10 s against 0.12 s of CPU for
    the large territory's ties)."""
    return [
        func.count()
        .filter(d.c.tag_bits.op("&")(tagbits.BIT[(kind, str(code))]) != 0)
        .label(f"tag_{i}")
        for i, (kind, code) in enumerate(TAG_NAMES)
    ]


# (edge attribute, first column, end column, its codes) of each kind's run of tag columns,
# counted from tag_0: TAG_NAMES lists the codes kind by kind, in _TAG_PIVOTS' order.
_TAG_SPANS = tuple(
    (name, lo, lo + len(codes), codes)
    for (name, codes), lo in zip(
        _TAG_PIVOTS.values(),
        itertools.accumulate((len(codes) for _, codes in _TAG_PIVOTS.values()), initial=0),
        strict=False,  # accumulate gives one more: the end of the last run
    )
)


def _tag_dicts(row, first_tag: int) -> dict[str, dict]:
    """An edge's tag attributes, {code: count} per kind without the zeros (nor the NULLs of
    an outer join), from its tag columns starting at `first_tag` (`_TAG_SPANS`)."""
    return {
        name: {
            code: n
            for code, n in zip(codes, row[first_tag + lo : first_tag + hi], strict=True)
            if n
        }
        for name, lo, hi, codes in _TAG_SPANS
    }


def _add_tags(g: nx.DiGraph, rows, key_len: int, node_key) -> None:
    succ = g.succ
    half = key_len // 2
    for row in rows:
        src, dst = node_key(row[:half]), node_key(row[half:key_len])
        attrs = succ.get(src, {}).get(dst)
        if attrs is None:
            continue
        attrs.update(_tag_dicts(row, key_len))


def _ties(d: CTE, tag: FromClause | None) -> Select:
    """One row per structure tie: its edge columns (_edge_columns) and its tag pivot
    (tag_0…), in one statement, ordered: the same data give the same graph, edge for edge,
    on both databases.

    `tag` None: the pivot from the declarations' tag_bits, in the same GROUP BY. Else from
    the tag rows `tag`: the declarations CTE is then referenced twice, so PostgreSQL and
    SQLite materialise it once instead of joining responses and links again per query."""
    if tag is None:
        return (
            select(d.c.src, d.c.dst, *_edge_columns(d), *_bit_columns(d))
            .group_by(d.c.src, d.c.dst)
            .order_by(d.c.src, d.c.dst)
        )
    e = select(d.c.src, d.c.dst, *_edge_columns(d)).group_by(d.c.src, d.c.dst).subquery("e")
    t = _tag_columns([d.c.src, d.c.dst], d, tag).subquery("t")
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


def _structures(session: Session, campaign: Campaign) -> dict[int, dict[str, object]]:
    """Root structures of the territory (merged ones excluded), with their attributes.

    A structure created after a closed campaign's closing date did not exist that year: it
    is not "active" for it (it still shows if that year's answers involve it). This is
    what freezing a campaign closed before snapshots existed relies on."""
    until = campaign.closes_on if campaign.status == "closed" else None
    zones = structure_zones(session, campaign.territory_id)
    rows = session.execute(
        select(
            _org.c.id, _org.c.name, _org.c.type, _org.c.commune, _org.c.status, _org.c.created_at
        ).where(_org.c.territory_id == campaign.territory_id, _org.c.merged_into_id.is_(None))
    )

    def status(r) -> str:
        if until is not None and r.status == "active" and r.created_at.date() > until:
            return "not_yet"
        return r.status

    return {
        r.id: {
            "name": r.name,
            "type": r.type,
            "type_label": vocab.org_type_label(r.type),
            "commune": r.commune or "",
            "zone": zones[r.id][1] if r.id in zones else "",
            "status": status(r),
            "proposed": r.status == "proposed",
        }
        for r in rows
    }


# --- frozen campaigns ----------------------------------------------------------------------


def is_frozen(session: Session, campaign: Campaign) -> bool:
    """True when `campaign` has a snapshot (closed, frozen): it is read from the frozen rows."""
    return (
        session.execute(
            select(literal(1)).where(table_of(CampaignSnapshot).c.campaign_id == campaign.id)
        ).first()
        is not None
    )


def _frozen_canon(campaign: Campaign) -> CTE:
    """The frozen rows already name each structure as it stood: the identity mapping."""
    return (
        select(
            _s_org.c.organisation_id.label("id"),
            _s_org.c.organisation_id.label("root"),
            literal(0).label("depth"),
        )
        .where(_s_org.c.campaign_id == campaign.id)
        .cte("frozen_canon")
    )


def _frozen_declarations(campaign: Campaign, flt: GraphFilter) -> CTE:
    """`declarations_cte` over the frozen declarations (same columns, same filters)."""
    d = _s_decl
    q = select(
        d.c.link_id,
        d.c.response_id,
        d.c.position,
        d.c.professional_id.label("pro"),
        d.c.src,
        d.c.dst,
        d.c.src_service,
        d.c.dst_service,
        d.c.nature,
        d.c.frequency,
        d.c.quality,
    ).where(d.c.campaign_id == campaign.id)
    if flt.org_types:
        oa, ob = _s_org.alias("src_org"), _s_org.alias("dst_org")
        types = sorted(flt.org_types)
        q = (
            q.join(oa, (oa.c.campaign_id == d.c.campaign_id) & (oa.c.organisation_id == d.c.src))
            .join(ob, (ob.c.campaign_id == d.c.campaign_id) & (ob.c.organisation_id == d.c.dst))
            .where(oa.c.type.in_(types), ob.c.type.in_(types))
        )
    if flt.nature:
        q = q.where(d.c.nature.in_((flt.nature, "both")))
    if flt.frequency:
        q = q.where(d.c.frequency == flt.frequency)
    if flt.thematique:
        q = q.where(
            exists().where(
                _s_tag.c.campaign_id == campaign.id,
                _s_tag.c.link_id == d.c.link_id,
                _s_tag.c.kind == "thematique",
                _s_tag.c.code == flt.thematique,
            )
        )
    if flt.zone:
        sz = _s_org.alias("src_zone")
        q = q.join(
            sz, (sz.c.campaign_id == d.c.campaign_id) & (sz.c.organisation_id == d.c.src)
        ).where(sz.c.zone == flt.zone)
    return q.cte("decl")


def _frozen_structures(session: Session, campaign: Campaign) -> dict[int, dict[str, object]]:
    rows = session.execute(
        select(_s_org).where(_s_org.c.campaign_id == campaign.id).order_by(_s_org.c.organisation_id)
    )
    return {
        r.organisation_id: {
            "name": r.name,
            "type": r.type,
            "type_label": r.type_label,
            "commune": r.commune,
            "zone": r.zone,
            "status": r.status,
            "proposed": r.status == "proposed",
        }
        for r in rows
    }


@dataclass(frozen=True)
class Source:
    """Where a campaign's graph is read: the live tables, or the frozen rows of a closed
    campaign. Each part has the same columns either way, so one aggregation serves both."""

    campaign: Campaign
    frozen: bool
    # Needed only to resolve a zone filter on the live tables (`zone_members`).
    session: Session | None = field(default=None, compare=False, repr=False)
    # Live tags counted from the tag rows instead of tag_bits: the reference only
    # (`build_graph_from_tag_rows`).
    tag_rows: bool = False

    @property
    def counts_bits(self) -> bool:
        """True when the tags counted per code come from the declarations' tag_bits."""
        return not self.frozen and not self.tag_rows

    def tag_pivot(self) -> FromClause | None:
        """What `_ties` and `_tag_columns` count tags from: None for tag_bits, else rows."""
        return None if self.counts_bits else self.tags()

    def canon(self) -> CTE:
        """(id, root): a structure id as answers store it → the graph's node."""
        if self.frozen:
            return _frozen_canon(self.campaign)
        return canonical_cte(self.campaign.territory_id)

    def declarations(self, flt: GraphFilter, canon: CTE) -> CTE:
        if self.frozen:
            return _frozen_declarations(self.campaign, flt)
        return declarations_cte(
            self.campaign, flt, canon, self.zone_members(flt.zone), tag_rows=self.tag_rows
        )

    def declaring(self, canon: CTE, d: CTE) -> Select:
        """(src, n): per declaring structure, the distinct professionals with at least one
        row in `d`, which `declarations(flt, canon)` made.

        Live answers: the structure's submitted responses having one such declaration, an
        EXISTS over `d`'s own SELECT narrowed to the response, which stops at its first link
        (the links' index) where a GROUP BY of `d` would join and sort every declaration
        again: a fifth of the large graph's SQL on SQLite. Frozen rows have no response to
        start from."""
        if self.frozen:
            return select(d.c.src, func.count(distinct(d.c.pro))).group_by(d.c.src)
        r = _resp.alias("declaring")
        root = canon.alias("declaring_root")
        own = cast(Select, d.element).where(_resp.c.id == r.c.id)  # declarations_cte's SELECT
        return (
            select(root.c.root, func.count(distinct(r.c.professional_id)))
            .select_from(r.join(root, root.c.id == r.c.organisation_id))
            .where(r.c.campaign_id == self.campaign.id, r.c.status == "submitted", own.exists())
            .group_by(root.c.root)
        )

    def zone_members(self, zone: str | None) -> frozenset[int] | None:
        """The live structures of the territory in the zone named `zone` (None: no zone)."""
        if not zone:
            return None
        if self.session is None:
            raise ValueError("a zone filter on live answers needs Source.session")
        zones = structure_zones(self.session, self.campaign.territory_id)
        return frozenset(oid for oid, (_, name) in zones.items() if name == zone)

    def tags(self) -> FromClause:
        """(link_id, kind, code) of the counted declarations."""
        if self.frozen:
            return (
                select(_s_tag.c.link_id, _s_tag.c.kind, _s_tag.c.code)
                .where(_s_tag.c.campaign_id == self.campaign.id)
                .subquery("frozen_tag")
            )
        return _tag

    def people(self) -> Select:
        """(pro, org, service, responded) of the campaign's invited professionals."""
        if self.frozen:
            p = _s_pro
            return select(
                p.c.professional_id.label("pro"),
                p.c.organisation_id.label("org"),
                p.c.service_id.label("service"),
                p.c.responded,
            ).where(p.c.campaign_id == self.campaign.id)
        return _participation_people(self.campaign)

    def structures(self, session: Session) -> dict[int, dict[str, object]]:
        if self.frozen:
            return _frozen_structures(session, self.campaign)
        return _structures(session, self.campaign)

    def service_names(self, session: Session, ids: list[int]) -> dict[int, str]:
        if self.frozen:
            q = select(_s_svc.c.service_id, _s_svc.c.name).where(
                _s_svc.c.campaign_id == self.campaign.id, _s_svc.c.service_id.in_(ids)
            )
        else:
            q = select(_svc.c.id, _svc.c.name).where(_svc.c.id.in_(ids))
        return {int(i): n for i, n in session.execute(q).all()}


def source_of(session: Session, campaign: Campaign) -> Source:
    return Source(campaign, is_frozen(session, campaign), session)


def _stored_graph(session: Session, campaign: Campaign, g: nx.DiGraph) -> nx.DiGraph:
    """The unfiltered structure graph of a frozen campaign, read as it was stored."""
    for r in session.execute(
        select(_s_org).where(_s_org.c.campaign_id == campaign.id).order_by(_s_org.c.organisation_id)
    ):
        g.add_node(
            r.organisation_id,
            name=r.name,
            type=r.type,
            type_label=r.type_label,
            commune=r.commune,
            zone=r.zone,
            proposed=r.status == "proposed",
            invited=r.invited,
            responded=r.responded,
            answered=r.responded > 0,
            link_carriers=r.link_carriers,
        )
    ties = session.execute(
        select(_s_tie.c.src, _s_tie.c.dst, _s_tie.c.attrs)
        .where(_s_tie.c.campaign_id == campaign.id)
        .order_by(_s_tie.c.src, _s_tie.c.dst)
    )
    g.add_edges_from((src, dst, json.loads(attrs)) for src, dst, attrs in ties)
    return g


def _structure_graph(campaign: Campaign, flt: GraphFilter) -> nx.DiGraph:
    """An empty structure-level graph with the campaign's and the filter's attributes."""
    return nx.DiGraph(
        campaign_id=campaign.id,
        territory_id=campaign.territory_id,
        year=campaign.year,
        level="structure",
        filters=flt.as_dict(),
    )


def build_graph(session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER) -> nx.DiGraph:
    """Structure-level graph of a campaign.

    Node attributes: name, type, type_label, commune, zone (its zone's name, "" none),
    proposed, invited, responded, answered, link_carriers (distinct professionals carrying
    at least one of its ties, in either direction). Edge attributes: carriers, declarations, formal, informal, both,
    frequencies {code: n}, practices {code: n}, thematiques {code: n}, quality_mean.
    """
    g = _structure_graph(campaign, flt)
    source = source_of(session, campaign)
    if source.frozen and flt == NO_FILTER:
        return _stored_graph(session, campaign, g)
    return _aggregated_graph(session, source, flt, g)


def build_graph_from_tag_rows(
    session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER
) -> nx.DiGraph:
    """`build_graph` of a live campaign with its tags counted from the tag rows, as before
    `tag_bits` existed: the reference `tests/test_tag_bits.py` compares it with, edge for
    edge. Not for pages: a join with every tag row of the campaign."""
    g = _structure_graph(campaign, flt)
    source = replace(source_of(session, campaign), tag_rows=True)
    if source.frozen:
        raise ValueError("a frozen campaign has no live tags to count")
    return _aggregated_graph(session, source, flt, g)


def _link_carriers(session: Session, declaring: Select, ties) -> dict[int, int]:
    """Structure → distinct professionals carrying at least one of its ties, either way.

    A professional answers once per campaign, so all their declarations leave from one
    structure: those leaving X are counted per structure (`Source.declaring`), and those
    naming X are the carriers of X's incoming ties summed over their ends (no professional
    is counted twice: each tie's carriers answered from a different structure, never X, as
    self-ties are not declarations). The same numbers as the union of (src, pro) and
    (dst, pro), without the union's sort of twice the declarations."""
    out: dict[int, int] = dict(session.execute(declaring).all())
    for row in ties:
        out[row.dst] = out.get(row.dst, 0) + row.carriers
    return out


def _aggregated_graph(
    session: Session, source: Source, flt: GraphFilter, g: nx.DiGraph
) -> nx.DiGraph:
    """`build_graph` by aggregating the declarations of `source` (live or frozen)."""
    canon = source.canon()
    d = source.declarations(flt, canon)
    structures = source.structures(session)

    people = source.people().subquery()
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

    edges = session.execute(_ties(d, source.tag_pivot())).all()
    link_carriers = _link_carriers(session, source.declaring(canon, d), edges)

    # The node set does not depend on link filters: a structure stays when its ties are hidden.
    named = set(link_carriers)
    if flt.filters_links():
        full = source.declarations(NO_FILTER, canon)
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
    # One add_edges_from: add_edge(**attrs) per tie unpacked and copied each dict twice.
    g.add_edges_from(
        (row.src, row.dst, _edge_attrs(row, first_tag))
        for row in edges
        if row.src in shown and row.dst in shown
    )
    return g


def _service_key(org_id: int, service_id: int | None) -> str:
    return f"s{service_id}" if service_id is not None else f"o{org_id}"


def build_service_graph(
    session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER
) -> nx.DiGraph:
    """Service-level zoom: respondent's service → partner service when given; a structure
    node ("o<id>") stands for answers that name no service. Same attributes as
    `build_graph`, plus organisation_id and service_id on nodes."""
    source = source_of(session, campaign)
    canon = source.canon()
    d = source.declarations(flt, canon)
    g = nx.DiGraph(
        campaign_id=campaign.id,
        territory_id=campaign.territory_id,
        year=campaign.year,
        level="service",
        filters=flt.as_dict(),
    )
    structures = source.structures(session)
    keys = [d.c.src, d.c.src_service, d.c.dst, d.c.dst_service]
    bits = _bit_columns(d) if source.counts_bits else []
    edges = session.execute(select(*keys, *_edge_columns(d), *bits).group_by(*keys)).all()

    people = source.people().subquery()
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
    first_tag = len(edges[0]) - len(bits) if edges else 0
    for row in edges:
        src, dst = node(row.src, row.src_service), node(row.dst, row.dst_service)
        if src and dst:
            attrs = _edge_attrs(row, first_tag)
            kept_edges.append((src, dst, attrs))
    service_ids = {a["service_id"] for a in nodes.values() if a["service_id"] is not None}
    if service_ids:
        names = source.service_names(session, sorted(service_ids))
        for a in nodes.values():
            if a["service_id"] is not None:
                a["service_name"] = names.get(a["service_id"], "")
                a["name"] = f"{a['organisation_name']} — {a['service_name']}"
    for key in sorted(nodes):
        g.add_node(key, **nodes[key])
    g.add_edges_from(kept_edges)
    tag = source.tag_pivot()
    if tag is not None:
        _add_tags(
            g,
            session.execute(_tag_columns(keys, d, tag)).all(),
            4,
            lambda k: _service_key(k[0], k[1]),
        )
    return g
