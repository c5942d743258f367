"""Coordination figures of a campaign: instances, official partnerships, zones, quality.

What coordinators recorded (instances and their official members, conventions, zones) is
compared with what professionals declared (ties, instances they sit in, frames, quality).
docs/metrics.md defines every figure; the result's shape is `coordination`'s docstring.

Declarations are aggregated by the database, one row per (respondent structure, partner
structure) (`_directed`); Python folds those rows per pair, family or zone and reads the
instances, conventions and zones of the territory (a few hundred rows). A "tie" is a
counted declaration as in `reports.graph` (submitted responses, link new or confirmed,
between canonical structures, self-ties dropped); A and B are "tied" when a tie exists in
either direction.

Choices where the definitions leave room (also in docs/metrics.md):
- "Structures of the graph" are the nodes of the unfiltered structure graph except the
  write-ins still proposed (the same set for a live and a frozen campaign).
- The convener of an instance is a member only when it is recorded as one; it is never
  listed among the instance's « membres absents ».
- « Hors instance » and « partenariat sans cadre » look at active instances only (members
  and declared participants); archived instances are listed with their figures.
- Similar instances: Jaccard index of the member sets, compared unrounded with 0.6.
- Quality per pair of families lists every pair with at least one tie between them (answers
  may be 0: no quality answered, share None); "autre" is a family there.
- Zones are listed by name; a frozen campaign's structures carry the zone's name at close.

A closed campaign reads what was stored when it was frozen (`CampaignSnapshot.coordination`);
a snapshot older than these figures computes them from its frozen declarations and
structures, with instances, memberships, participation and conventions read live.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import networkx as nx
from sqlalchemy import Integer, column, distinct, func, select, union_all, values
from sqlmodel import Session

from reports.graph import (
    NO_FILTER,
    Source,
    build_graph,
    canonical_cte,
    is_frozen,
    merge_roots,
    source_of,
)
from survey import vocab
from survey.db import table_of
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Convention,
    ConventionParty,
    Organisation,
    Response,
    ResponseBody,
    Zone,
)
from survey.snapshots import CampaignSnapshot, SnapshotStructure

FRAME_TAG = "frame"  # LinkTag kind of the formal frames a respondent declares
# Frames that are the respondents' own evidence of a formal frame between two structures.
FRAME_EVIDENCE = ("agreement", "commission", "protocol")
FREQUENT = ("weekly", "monthly")
STRONG_CARRIERS = 2  # « membres absents »: a tie two professionals declare is a strong one
DIFFICULT = (1, 2)  # vocab.QUALITIES: « Difficile », « À améliorer »
FORMAL = ("formal", "both")
SIMILAR_JACCARD = 0.6
_FRAME_CODES = tuple(vocab.FRAMES)
_FAMILY_ORDER = {f.code: i for i, f in enumerate(vocab.FAMILIES)}
_FAMILY_LABEL = {f.code: f.label for f in vocab.FAMILIES}

_body = table_of(Body)
_member = table_of(BodyMember)
_rb = table_of(ResponseBody)
_resp = table_of(Response)
_conv = table_of(Convention)
_party = table_of(ConventionParty)
_zone = table_of(Zone)
_org = table_of(Organisation)
_snap = table_of(CampaignSnapshot)
_s_org = table_of(SnapshotStructure)

Pair = tuple[int, int]


def _pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


@dataclass
class _Tie:
    """The declarations between two structures, both directions together."""

    carriers: int = 0
    declarations: int = 0
    frequent: int = 0
    evidence: int = 0  # declarations' frame tags in FRAME_EVIDENCE
    frames: list[int] = field(default_factory=lambda: [0] * len(_FRAME_CODES))


@dataclass
class _Counts:
    """One row of `_directed`: the declarations of src's respondents naming dst."""

    carriers: int
    declarations: int
    frequent: int
    answers: int
    difficult: int
    formal: int
    frames: list[int]
    evidence: int


# --- reading -------------------------------------------------------------------------------


def _directed(session: Session, source: Source) -> dict[Pair, _Counts]:
    """(src, dst) -> counts of its declarations: two GROUP BY queries (counts, frame tags)."""
    canon = source.canon()
    d = source.declarations(NO_FILTER, canon)
    counts = session.execute(
        select(
            d.c.src,
            d.c.dst,
            func.count(distinct(d.c.pro)).label("carriers"),
            func.count().label("declarations"),
            func.count().filter(d.c.frequency.in_(FREQUENT)).label("frequent"),
            func.count(d.c.quality).label("answers"),
            func.count().filter(d.c.quality.in_(DIFFICULT)).label("difficult"),
            func.count().filter(d.c.nature.in_(FORMAL)).label("formal"),
        ).group_by(d.c.src, d.c.dst)
    ).all()
    out = {
        (r.src, r.dst): _Counts(
            int(r.carriers),
            int(r.declarations),
            int(r.frequent or 0),
            int(r.answers or 0),
            int(r.difficult or 0),
            int(r.formal or 0),
            [0] * len(_FRAME_CODES),
            0,
        )  # fmt: skip
        for r in counts
    }
    d = source.declarations(NO_FILTER, source.canon())
    tags = source.tags()
    frames = session.execute(
        select(
            d.c.src,
            d.c.dst,
            *(func.count().filter(tags.c.code == code) for code in _FRAME_CODES),
            func.count().filter(tags.c.code.in_(FRAME_EVIDENCE)),
        )
        .select_from(d.join(tags, tags.c.link_id == d.c.link_id))
        .where(tags.c.kind == FRAME_TAG)
        .group_by(d.c.src, d.c.dst)
    ).all()
    for row in frames:
        c = out.get((row[0], row[1]))
        if c is not None:
            c.frames = [int(n or 0) for n in row[2 : 2 + len(_FRAME_CODES)]]
            c.evidence = int(row[-1] or 0)
    return out


def _carriers_with(
    session: Session, source: Source, wanted: dict[int, tuple[set[int], Iterable[int]]]
) -> dict[tuple[int, int], int]:
    """For each instance (body id -> (members, outsiders)) and each of its outsiders X: the
    distinct professionals declaring a tie between X and the members (X's respondents naming
    a member, members' respondents naming X). One query for every instance."""
    cands = [(b, x) for b, (_, xs) in wanted.items() for x in xs]
    if not cands:
        return {}
    mems = [(b, m) for b, (ms, _) in wanted.items() for m in ms]
    cand = values(column("body", Integer), column("x", Integer), name="cand").data(cands).cte()
    mem = values(column("body", Integer), column("m", Integer), name="mem").data(mems).cte()
    d = source.declarations(NO_FILTER, source.canon())
    both = union_all(
        select(cand.c.body, cand.c.x, d.c.pro)
        .select_from(cand.join(mem, mem.c.body == cand.c.body))
        .join(d, (d.c.src == cand.c.x) & (d.c.dst == mem.c.m)),
        select(cand.c.body, cand.c.x, d.c.pro)
        .select_from(cand.join(mem, mem.c.body == cand.c.body))
        .join(d, (d.c.dst == cand.c.x) & (d.c.src == mem.c.m)),
    ).subquery()
    rows = session.execute(
        select(both.c.body, both.c.x, func.count(distinct(both.c.pro))).group_by(
            both.c.body, both.c.x
        )
    )
    return {(int(b), int(x)): int(n) for b, x, n in rows}


def _participants(session: Session, campaign: Campaign) -> dict[int, dict[int, int]]:
    """Body id -> {canonical structure: submitted respondents who ticked it from there}."""
    canon = canonical_cte(campaign.territory_id)
    rows = session.execute(
        select(_rb.c.body_id, canon.c.root, func.count(distinct(_resp.c.professional_id)))
        .select_from(
            _rb.join(_resp, _resp.c.id == _rb.c.response_id)
            .join(canon, canon.c.id == _resp.c.organisation_id)
            .join(_body, _body.c.id == _rb.c.body_id)
        )
        .where(
            _resp.c.campaign_id == campaign.id,
            _resp.c.status == "submitted",
            _body.c.territory_id == campaign.territory_id,
        )
        .group_by(_rb.c.body_id, canon.c.root)
    )
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for body_id, root, n in rows:
        out[int(body_id)][int(root)] = int(n)
    return out


class _World:
    """The graph's structures and the ties of a campaign, as the figures read them."""

    def __init__(self, session: Session, source: Source, g: nx.DiGraph) -> None:
        self.session = session
        self.source = source
        self.campaign = source.campaign
        self.nodes: dict[int, dict[str, Any]] = dict(g.nodes(data=True))
        self.directed = _directed(session, source)
        self.ties: dict[Pair, _Tie] = {}
        self.neighbours: dict[int, set[int]] = defaultdict(set)
        for (src, dst), c in self.directed.items():
            t = self.ties.setdefault(_pair(src, dst), _Tie())
            # A professional answers once per campaign, from one structure: the carriers of
            # the two directions are different people and add up (as in reports.figures).
            t.carriers += c.carriers
            t.declarations += c.declarations
            t.frequent += c.frequent
            t.evidence += c.evidence
            t.frames = [a + b for a, b in zip(t.frames, c.frames, strict=True)]
            self.neighbours[src].add(dst)
            self.neighbours[dst].add(src)
        self.roots = merge_roots(session, self.campaign.territory_id)
        live = session.execute(
            select(_org.c.id, _org.c.name, _org.c.type).where(
                _org.c.territory_id == self.campaign.territory_id
            )
        ).all()
        self._names = {int(i): (n, t) for i, n, t in live}
        for n, a in self.nodes.items():
            self._names[n] = (a["name"], a["type"])

    def root(self, oid: int) -> int:
        """A structure id as recorded (member, party, convener) -> its node: the graph's own
        id when it is one (a frozen campaign's structures as they stood), else the live
        structure that absorbed it."""
        return oid if oid in self.nodes else self.roots.get(oid, oid)

    def listed(self, oid: int) -> bool:
        """A structure of the graph (not a write-in still proposed)."""
        a = self.nodes.get(oid)
        return a is not None and not a.get("proposed")

    def family(self, oid: int) -> str:
        return vocab.family_of(self._names.get(oid, ("", "autre"))[1]).code

    def ref(self, oid: int) -> dict[str, Any]:
        name, type_ = self._names.get(oid, (f"Structure {oid}", "autre"))
        type_label = self.nodes[oid]["type_label"] if oid in self.nodes else None
        return {
            "id": oid,
            "name": name,
            "type_label": type_label or vocab.org_type_label(type_),
            "family": vocab.family_of(type_).code,
        }

    def key(self, oid: int) -> tuple[str, int]:
        return (self._names.get(oid, ("", ""))[0].lower(), oid)

    def refs(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        return [self.ref(i) for i in sorted(ids, key=self.key)]

    def tied(self, a: int, b: int) -> bool:
        return _pair(a, b) in self.ties

    def strong(self, a: int, b: int) -> bool:
        """Tied by at least two professionals, or at least weekly or monthly by one."""
        t = self.ties.get(_pair(a, b))
        return t is not None and (t.carriers >= STRONG_CARRIERS or t.frequent > 0)


# --- instances -----------------------------------------------------------------------------


@dataclass
class _Instance:
    body: Any  # a Body row
    members: set[int]
    participants: dict[int, int]  # structure -> respondents
    convener: int | None


def _read_instances(world: _World) -> list[_Instance]:
    session, campaign = world.session, world.campaign
    bodies = session.execute(
        select(_body).where(_body.c.territory_id == campaign.territory_id)
    ).all()
    members: dict[int, set[int]] = defaultdict(set)
    for body_id, oid in session.execute(
        select(_member.c.body_id, _member.c.organisation_id)
        .join(_body, _body.c.id == _member.c.body_id)
        .where(_body.c.territory_id == campaign.territory_id)
    ):
        members[int(body_id)].add(world.root(int(oid)))
    participants: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for body_id, by_org in _participants(session, campaign).items():
        for oid, n in by_org.items():
            participants[body_id][world.root(oid)] += n
    out = [
        _Instance(
            b,
            members[b.id],
            dict(participants.get(b.id, {})),
            None if b.convener_id is None else world.root(b.convener_id),
        )
        for b in bodies
    ]
    return sorted(out, key=lambda i: (not i.body.active, i.body.name.lower(), i.body.id))


def _absent_found(world: _World, inst: _Instance) -> dict[int, int]:
    """Structures strongly tied to at least max(2, ⌈|M|/2⌉) members that are not members,
    with how many members they are strongly tied to.

    Strongly: a tie alone would list most structures of a dense territory (on the demo,
    15 to 20 per instance); one carried by two professionals or lived weekly or monthly
    is what an instance would miss (3 to 10)."""
    m = inst.members
    if len(m) < 2:
        return {}
    need = max(2, math.ceil(len(m) / 2))
    candidates = {x for member in m for x in world.neighbours.get(member, ())}
    tied = {
        x: sum(world.strong(x, member) for member in m)
        for x in candidates
        if x not in m and x != inst.convener and world.listed(x)
    }
    return {x: n for x, n in tied.items() if n >= need}


def _absent(
    world: _World, inst: _Instance, found: dict[int, int], carriers: dict[tuple[int, int], int]
) -> list[dict[str, Any]]:
    rows = [
        world.ref(x)
        | {
            "tied_members": n,
            "members": len(inst.members),
            "carriers": carriers.get((inst.body.id, x), 0),
        }
        for x, n in found.items()
    ]
    return sorted(rows, key=lambda r: (-r["tied_members"], -r["carriers"], r["name"].lower()))


def _instance_item(world: _World, inst: _Instance, absent: list[dict[str, Any]]) -> dict[str, Any]:
    b = inst.body
    codes = [c for c in (b.thematiques or "").split(",") if c]
    participants = sorted(inst.participants.items(), key=lambda p: (-p[1], *world.key(p[0])))
    return {
        "id": b.id,
        "name": b.name,
        "kind": b.kind,
        "kind_label": vocab.BODY_KINDS.get(b.kind, b.kind),
        "frequency": b.frequency,
        "frequency_label": vocab.BODY_FREQUENCIES.get(b.frequency, ""),
        "thematiques": [vocab.THEMATIQUES.get(c, c) for c in codes],
        "convener": None if inst.convener is None else world.ref(inst.convener),
        "active": bool(b.active),
        "members": world.refs(inst.members),
        "participants": [world.ref(o) | {"respondents": n} for o, n in participants],
        "members_not_declaring": world.refs(inst.members - set(inst.participants)),
        "participants_not_members": world.refs(set(inst.participants) - inst.members),
        "absent": absent,
    }


def _similar(instances: list[_Instance]) -> list[dict[str, Any]]:
    """Pairs of active instances (≥ 2 members each) whose member sets' Jaccard ≥ 0.6."""
    kept = [i for i in instances if i.body.active and len(i.members) >= 2]
    out = []
    for k, a in enumerate(kept):
        for b in kept[k + 1 :]:
            shared = len(a.members & b.members)
            jaccard = shared / len(a.members | b.members)
            if jaccard >= SIMILAR_JACCARD:
                out.append(
                    {
                        "a": {"id": a.body.id, "name": a.body.name},
                        "b": {"id": b.body.id, "name": b.body.name},
                        "shared": shared,
                        "jaccard": jaccard,
                    }
                )
    return sorted(
        out, key=lambda s: (-s["jaccard"], s["a"]["name"].lower(), s["b"]["name"].lower())
    )


def _instances(world: _World, instances: list[_Instance]) -> dict[str, Any]:
    inside: set[int] = set()
    for i in instances:
        if i.body.active:
            inside |= i.members | set(i.participants)
    outside = [
        n
        for n, a in world.nodes.items()
        if world.listed(n) and (world.neighbours.get(n) or a.get("responded")) and n not in inside
    ]
    found = {i.body.id: _absent_found(world, i) for i in instances}
    carriers = _carriers_with(
        world.session,
        world.source,
        {i.body.id: (i.members, found[i.body.id]) for i in instances if found[i.body.id]},
    )
    return {
        "items": [
            _instance_item(world, i, _absent(world, i, found[i.body.id], carriers))
            for i in instances
        ],
        "similar": _similar(instances),
        "outside": world.refs(outside),
    }


# --- official partnerships -----------------------------------------------------------------


def _conventions(world: _World) -> list[dict[str, Any]]:
    """The conventions in force in the campaign's year, with their pairs of parties."""
    session, campaign = world.session, world.campaign
    first, last = date(campaign.year, 1, 1), date(campaign.year, 12, 31)
    rows = session.execute(
        select(_conv)
        .where(
            _conv.c.territory_id == campaign.territory_id,
            _conv.c.active.is_(True),
            _conv.c.starts_on <= last,
            _conv.c.ends_on.is_(None) | (_conv.c.ends_on >= first),
        )
        .order_by(_conv.c.starts_on, _conv.c.title, _conv.c.id)
    ).all()
    parties: dict[int, set[int]] = defaultdict(set)
    if rows:
        for cid, oid in session.execute(
            select(_party.c.convention_id, _party.c.organisation_id).where(
                _party.c.convention_id.in_([r.id for r in rows])
            )
        ):
            parties[int(cid)].add(world.root(int(oid)))
    out = []
    for r in rows:
        ps = sorted(parties[r.id])
        pairs = [(a, b) for k, a in enumerate(ps) for b in ps[k + 1 :]]
        out.append(
            {
                "id": r.id,
                "kind": r.kind,
                "kind_label": vocab.CONVENTION_KINDS.get(r.kind, r.kind),
                "title": r.title,
                "reference": r.reference,
                "starts_on": r.starts_on.isoformat(),
                "ends_on": None if r.ends_on is None else r.ends_on.isoformat(),
                "parties": world.refs(ps),
                "pairs": len(pairs),
                "alive_pairs": sum(world.tied(a, b) for a, b in pairs),
            }
        )
    return out


def _official(world: _World, instances: list[_Instance]) -> dict[str, Any]:
    in_force = _conventions(world)
    signed = [{p["id"] for p in c["parties"]} for c in in_force]
    sitting = [i.members | set(i.participants) for i in instances if i.body.active]

    def framed(a: int, b: int) -> bool:
        return any(a in s and b in s for s in signed) or any(a in s and b in s for s in sitting)

    found = sorted(
        (
            (pair, t)
            for pair, t in world.ties.items()
            if t.frequent and not t.evidence and not framed(*pair)
        ),
        key=lambda p: (-p[1].carriers, -p[1].declarations, world.key(p[0][0]), world.key(p[0][1])),
    )
    without_frame = [
        {
            "a": world.ref(a),
            "b": world.ref(b),
            "carriers": t.carriers,
            "declarations": t.declarations,
            "frequent": t.frequent,
        }
        for (a, b), t in found
    ]
    return {
        "in_force": in_force,
        "without_life": [c for c in in_force if c["pairs"] and not c["alive_pairs"]],
        "without_frame": without_frame,
    }


# --- zones ---------------------------------------------------------------------------------


def _zones(world: _World) -> dict[str, Any]:
    live = {
        r.name: (r.id, r.kind)
        for r in world.session.execute(
            select(_zone.c.id, _zone.c.name, _zone.c.kind).where(
                _zone.c.territory_id == world.campaign.territory_id
            )
        )
    }
    zone_of = {n: a.get("zone") or "" for n, a in world.nodes.items()}
    names = sorted(set(live) | (set(zone_of.values()) - {""}), key=lambda z: (z.lower(), z))

    def people(z: str) -> dict[str, int]:
        ns = [n for n, zn in zone_of.items() if zn == z]
        return {
            "structures": sum(world.listed(n) for n in ns),
            "invited": sum(int(world.nodes[n].get("invited") or 0) for n in ns),
            "responded": sum(int(world.nodes[n].get("responded") or 0) for n in ns),
        }

    inside: dict[str, int] = defaultdict(int)
    out: dict[str, int] = defaultdict(int)
    for a, b in world.ties:
        if not (world.listed(a) and world.listed(b)):  # a write-in still proposed
            continue
        za, zb = zone_of.get(a, ""), zone_of.get(b, "")
        if za == zb:
            inside[za] += 1
        else:
            out[za] += 1
            out[zb] += 1
    items = []
    for z in names:
        zid, kind = live.get(z, (None, "autre"))
        p = people(z)
        items.append(
            {
                "id": zid,
                "name": z,
                "kind": kind,
                "kind_label": vocab.ZONE_KINDS.get(kind, kind),
                **p,
                "participation": p["responded"] / p["invited"] if p["invited"] else None,
                "ties_inside": inside[z],
                "ties_out": out[z],
            }
        )
    return {"items": items, "unzoned": people(""), "white": _white(world, zone_of, items)}


def _white(
    world: _World, zone_of: dict[int, str], items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """(zone, family) where the zone has respondents and none of their declarations names a
    structure of that family (a family present among the graph's structures)."""
    present = {world.family(n) for n in world.nodes if world.listed(n)} - {vocab.OTHER.code}
    named: dict[str, set[str]] = defaultdict(set)
    for src, dst in world.directed:
        named[zone_of.get(src, "")].add(world.family(dst))
    out = []
    for z in items:
        if not z["responded"] or not z["name"]:
            continue
        for f in vocab.FAMILIES:
            if f.code in present and f.code not in named[z["name"]]:
                out.append(
                    {
                        "zone_id": z["id"],
                        "zone": z["name"],
                        "family": f.code,
                        "family_label": f.label,
                        "respondents": z["responded"],
                    }
                )
    return out


# --- quality and frames --------------------------------------------------------------------


def _quality(world: _World) -> dict[str, Any]:
    pairs: dict[tuple[str, str], list[int]] = {}
    for (src, dst), c in world.directed.items():
        fa, fb = sorted((world.family(src), world.family(dst)), key=_FAMILY_ORDER.__getitem__)
        acc = pairs.setdefault((fa, fb), [0, 0])
        acc[0] += c.answers
        acc[1] += c.difficult
    rows = [
        {
            "a": a,
            "a_label": _FAMILY_LABEL[a],
            "b": b,
            "b_label": _FAMILY_LABEL[b],
            "answers": answers,
            "difficult": difficult,
            "share": difficult / answers if answers else None,
        }
        for (a, b), (answers, difficult) in sorted(
            pairs.items(), key=lambda p: (_FAMILY_ORDER[p[0][0]], _FAMILY_ORDER[p[0][1]])
        )
    ]
    frames = [
        {
            "code": code,
            "label": vocab.FRAMES[code],
            "declarations": sum(c.frames[k] for c in world.directed.values()),
            "pairs": sum(1 for t in world.ties.values() if t.frames[k]),
        }
        for k, code in enumerate(_FRAME_CODES)
    ]
    return {
        "pairs": rows,
        "frames": frames,
        "formal_declarations": sum(c.formal for c in world.directed.values()),
    }


# --- entry points --------------------------------------------------------------------------


def compute(session: Session, source: Source, graph: nx.DiGraph | None = None) -> dict:
    """The coordination figures of `source`'s campaign, computed now (never the stored
    ones). `graph`: its unfiltered structure graph, when the caller has it."""
    g = graph if graph is not None else build_graph(session, source.campaign)
    world = _World(session, source, g)
    instances = _read_instances(world)
    return {
        "year": source.campaign.year,
        "instances": _instances(world, instances),
        "official": _official(world, instances),
        "zones": _zones(world),
        "quality": _quality(world),
    }


def stored(session: Session, campaign: Campaign) -> dict | None:
    """The figures frozen with the campaign, or None (not frozen, or frozen before them)."""
    raw = session.execute(
        select(_snap.c.coordination).where(_snap.c.campaign_id == campaign.id)
    ).scalar()
    return None if raw is None else json.loads(raw)


def coordination(session: Session, campaign: Campaign, graph: nx.DiGraph | None = None) -> dict:
    """Instances, official partnerships, zones, quality and frames of a campaign (JSON-safe,
    exact counts: `reports.privacy.suppress_coordination` gives the public copy).

    A frozen campaign returns what was stored at close. `graph`: the campaign's unfiltered
    structure graph when the caller has it (e.g. `reports.cache.graph`), else it is built.

    Structure refs are {"id", "name", "type_label", "family"}. Keys: year; instances {items
    [{id, name, kind, kind_label, frequency, frequency_label, thematiques, convener, active,
    members, participants (+respondents), members_not_declaring, participants_not_members,
    absent (+tied_members, members, carriers)}], similar [{a, b, shared, jaccard}],
    outside}; official {in_force [{id, kind, kind_label, title, reference, starts_on,
    ends_on, parties, pairs, alive_pairs}], without_life, without_frame [{a, b, carriers,
    declarations, frequent}]}; zones {items [{id, name, kind, kind_label, structures,
    invited, responded, participation, ties_inside, ties_out}], unzoned {structures, invited,
    responded}, white [{zone_id, zone, family, family_label, respondents}]}; quality {pairs
    [{a, a_label, b, b_label, answers, difficult, share}], frames [{code, label,
    declarations, pairs}], formal_declarations}.
    """
    source = source_of(session, campaign)
    if source.frozen:
        kept = stored(session, campaign)
        if kept is not None:
            return kept
    return compute(session, source, graph)


def zone_names(session: Session, campaign: Campaign) -> list[str]:
    """The zones a filter offers: the territory's zones, or for a frozen campaign the zones
    its structures were in at close."""
    if is_frozen(session, campaign):
        q = (
            select(_s_org.c.zone)
            .where(_s_org.c.campaign_id == campaign.id, _s_org.c.zone != "")
            .distinct()
        )
    else:
        q = select(_zone.c.name).where(_zone.c.territory_id == campaign.territory_id)
    return sorted(session.scalars(q).all(), key=lambda z: (z.lower(), z))


def instance_members(session: Session, campaign: Campaign, body_id: int) -> set[int] | None:
    """The official members of instance `body_id` (canonical structure ids) for the
    campaign; None when it is not an instance of the campaign's territory. A frozen
    campaign reads them from its stored figures."""
    if is_frozen(session, campaign):
        d = coordination(session, campaign)
        for item in d["instances"]["items"]:
            if item["id"] == body_id:
                return {m["id"] for m in item["members"]}
        return None
    found = session.execute(
        select(_body.c.id).where(
            _body.c.id == body_id, _body.c.territory_id == campaign.territory_id
        )
    ).first()
    if found is None:
        return None
    roots = merge_roots(session, campaign.territory_id)
    ids = session.scalars(select(_member.c.organisation_id).where(_member.c.body_id == body_id))
    return {roots.get(int(i), int(i)) for i in ids}


__all__ = [
    "FRAME_EVIDENCE",
    "FRAME_TAG",
    "compute",
    "coordination",
    "instance_members",
    "stored",
    "zone_names",
]
