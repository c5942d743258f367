"""In-process cache of built graphs and what is computed from them, keyed by data version.

Building a campaign's graph is SQL aggregation over every declared link (about 1 s for a
large département) and its figures cost as much again; the map, table, figures and
structure pages, the JSON API, the exports and the PDF report all start from it. Here a
graph is built once per (campaign, data version, filter) and kept in a small LRU.

Never stale: the key holds the campaign's **data version** (`data_version`), one cheap
query over everything `reports.graph.build_graph` reads, restricted to the campaign and its
territory. When anything that can change the graph changes, the version changes, the key
misses and the graph is built again; old entries simply age out of the LRU. The version is
read BEFORE the graph is built, in the same session, so a graph is never older than the
version it is filed under (at worst newer, which is never stale).

What the version covers (see `build_graph`):
- responses of the campaign (submitted ones: count, highest id, last `updated_at` and
  `submitted_at`, sum of structure ids): a submission, a re-saved answer (the questionnaire
  rewrites the links and their tags and always bumps `updated_at`);
- invitations of the campaign (count, highest id, revoked count, last revocation);
- the territory's structures, by content (id, name, type, commune, status, merged into, zone
  set by hand): a rename, a type change, an archive, a confirmation, a merge (which also
  re-points responses, links and services), a write-in proposed by a respondent, a structure
  placed in a zone by hand;
- the territory's zones, by content (id, name) and their communes (zone, key): a zone
  created, renamed or deleted, a commune import (nodes carry their zone's name and the zone
  filter reads it);
- the territory's professionals, by content (id, structure, active): a move, leaving the
  post, a new professional, an erasure that deactivates;
- the campaign row itself (year, status): a campaign closed or reopened.
Structures and professionals have no "last modified" column, so their content is read and
hashed (a few hundred structures, a few thousand professionals per territory: a few ms);
this is broader than needed (any edit of a structure's name invalidates every filter of
every campaign of the territory) but exact. Code that changes declared links outside the
questionnaire must keep one of these signals moving (merges do, through `merged_into_id`).

Instances, their members and conventions are not read by the graph: the coordination
figures that read them (`reports.coordination`) are computed on each call, never cached here.

Cached graphs are frozen (`networkx.freeze`): adding or removing nodes or edges raises.
Their attribute dicts are shared with every caller: reports/ and app/ only read them
(tests/test_graph_cache.py checks that every page leaves the cached graph and figures equal
to a fresh build). Thread-safe: sync routes run in a thread pool.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import networkx as nx
from sqlalchemy import Connection, Engine, String, cast, func, literal, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import Session

from reports import coordination, figures
from reports.compare import (
    carrier_departures,
    compare_sides,
    current_roots,
    merged_departures,
    merged_now,
    side_of_graph,
)
from reports.graph import NO_FILTER, GraphFilter, build_graph
from reports.snapshot import stored_comparison
from survey.db import table_of
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Convention,
    ConventionParty,
    Invitation,
    Organisation,
    Professional,
    Response,
    Zone,
    ZoneCommune,
)
from survey.snapshots import CampaignSnapshot

T = TypeVar("T")

MAX_ENTRIES = 8  # (campaign, version, filter) graphs kept; a large one is ~15-35 MB with figures

_resp = table_of(Response)
_inv = table_of(Invitation)
_org = table_of(Organisation)
_pro = table_of(Professional)
_camp = table_of(Campaign)
_snap = table_of(CampaignSnapshot)
_zone = table_of(Zone)
_zc = table_of(ZoneCommune)
_body = table_of(Body)
_member = table_of(BodyMember)
_conv = table_of(Convention)
_party = table_of(ConventionParty)
_SEP = ";"
FROZEN = "frozen:"  # prefix of a frozen campaign's data version


def _text(c) -> Any:
    return func.coalesce(cast(c, String), "")


def _joined(session: Session, piece, where, order) -> Any:
    """One string of every row's `piece`, in `order` (exact content of a small table)."""
    if session.get_bind().dialect.name == "postgresql":
        agg = func.string_agg(piece, aggregate_order_by(literal(_SEP), order))
        return select(agg.label("s")).where(where)
    rows = select(piece.label("p")).where(where).order_by(order).subquery()
    return select(func.aggregate_strings(rows.c.p, _SEP).label("s"))


def _version_query(session: Session, campaign: Campaign):
    r, i, o, p, c = _resp, _inv, _org, _pro, _camp
    responses = (
        select(
            func.count().label("n"),
            func.max(r.c.id).label("max_id"),
            func.max(r.c.updated_at).label("updated"),
            func.max(r.c.submitted_at).label("submitted"),
            func.sum(r.c.organisation_id).label("orgs"),
        )
        .where(r.c.campaign_id == campaign.id, r.c.status == "submitted")
        .subquery("r")
    )
    invitations = (
        select(
            func.count().label("n"),
            func.max(i.c.id).label("max_id"),
            func.count(i.c.revoked_at).label("revoked"),
            func.max(i.c.revoked_at).label("last_revoked"),
        )
        .where(i.c.campaign_id == campaign.id)
        .subquery("i")
    )
    # Lengths first, so a name holding the separator cannot be read as another row.
    org_piece = (
        _text(o.c.id) + "," + _text(func.length(o.c.name)) + "," + o.c.name + ","
        + _text(func.length(o.c.commune)) + "," + o.c.commune + "," + o.c.type + ","
        + o.c.status + "," + _text(o.c.merged_into_id) + "," + _text(o.c.zone_id)
    )  # fmt: skip
    orgs = _joined(session, org_piece, o.c.territory_id == campaign.territory_id, o.c.id)
    z, zc = _zone, _zc
    zone_piece = _text(z.c.id) + "," + _text(func.length(z.c.name)) + "," + z.c.name
    zones = _joined(session, zone_piece, z.c.territory_id == campaign.territory_id, z.c.id)
    # A commune is one key of one zone; the keys of the territory's zones, in order.
    commune_piece = _text(zc.c.zone_id) + "," + _text(func.length(zc.c.key)) + "," + zc.c.key
    communes = _joined(
        session,
        commune_piece,
        zc.c.zone_id.in_(select(z.c.id).where(z.c.territory_id == campaign.territory_id)),
        commune_piece,
    )
    active = func.coalesce(cast(p.c.active, String), "")
    pro_piece = _text(p.c.id) + "," + _text(p.c.organisation_id) + "," + active
    pros = _joined(session, pro_piece, p.c.territory_id == campaign.territory_id, p.c.id)
    camp = select(c.c.year, c.c.status, c.c.territory_id).where(c.c.id == campaign.id).subquery()
    o_sub, p_sub = orgs.subquery("o"), pros.subquery("p")
    z_sub, zc_sub = zones.subquery("z"), communes.subquery("zc")
    return select(
        camp.c.year,
        camp.c.status,
        camp.c.territory_id,
        *responses.c,
        *invitations.c,
        o_sub.c.s.label("orgs_s"),
        p_sub.c.s.label("pros_s"),
        z_sub.c.s.label("zones_s"),
        zc_sub.c.s.label("communes_s"),
    ).select_from(
        camp.join(responses, true())
        .join(invitations, true())
        .join(o_sub, true())
        .join(p_sub, true())
        .join(z_sub, true())
        .join(zc_sub, true())
    )


def _frozen_at(session: Session, campaign: Campaign) -> Any | None:
    return session.execute(
        select(_snap.c.frozen_at).where(_snap.c.campaign_id == campaign.id)
    ).scalar()


def data_version(session: Session, campaign: Campaign) -> str:
    """A digest that changes whenever the campaign's graph (any filter) can have changed.
    A frozen campaign's graph changes only when it is frozen again (reopened and closed):
    its version is the time of its snapshot. Otherwise one query; see the module docstring
    for what it covers."""
    frozen_at = _frozen_at(session, campaign)
    if frozen_at is not None:
        return f"{FROZEN}{campaign.id}:{frozen_at.isoformat()}"
    row = session.execute(_version_query(session, campaign)).one_or_none()
    h = hashlib.sha256(f"campaign {campaign.id}".encode())
    for value in row or ("missing",):
        h.update(b"\x1f")
        h.update(str(value).encode())
    return h.hexdigest()


def _stored_figures(session: Session, campaign: Campaign) -> dict | None:
    raw = session.execute(
        select(_snap.c.figures).where(_snap.c.campaign_id == campaign.id)
    ).scalar()
    return None if raw is None else json.loads(raw)


def _coordination_version(session: Session, campaign: Campaign) -> str:
    """A digest of what coordinators recorded that the coordination figures read besides the
    graph: instances (with members), conventions (with parties). Zones are in the graph's
    data version already; participation in instances comes with the responses."""
    b, m, c, cp = _body, _member, _conv, _party
    t = campaign.territory_id
    body_piece = (
        _text(b.c.id) + "," + _text(func.length(b.c.name)) + "," + b.c.name + "," + b.c.kind
        + "," + _text(b.c.convener_id) + "," + b.c.frequency + "," + b.c.thematiques + ","
        + _text(cast(b.c.active, String))
    )  # fmt: skip
    member_piece = _text(m.c.body_id) + "," + _text(m.c.organisation_id)
    conv_piece = (
        _text(c.c.id) + "," + c.c.kind + "," + _text(func.length(c.c.title)) + "," + c.c.title
        + "," + _text(func.length(c.c.reference)) + "," + c.c.reference + ","
        + _text(c.c.starts_on) + "," + _text(c.c.ends_on) + "," + _text(cast(c.c.active, String))
    )  # fmt: skip
    party_piece = _text(cp.c.convention_id) + "," + _text(cp.c.organisation_id)
    bodies = select(b.c.id).where(b.c.territory_id == t)
    convs = select(c.c.id).where(c.c.territory_id == t)
    parts = (
        _joined(session, body_piece, b.c.territory_id == t, b.c.id),
        _joined(session, member_piece, m.c.body_id.in_(bodies), member_piece),
        _joined(session, conv_piece, c.c.territory_id == t, c.c.id),
        _joined(session, party_piece, cp.c.convention_id.in_(convs), party_piece),
    )
    subs = [q.subquery(f"c{i}") for i, q in enumerate(parts)]
    row = session.execute(
        select(*(q.c.s for q in subs)).select_from(
            subs[0].join(subs[1], true()).join(subs[2], true()).join(subs[3], true())
        )
    ).one()
    h = hashlib.sha256(b"coordination")
    for value in row:
        h.update(b"\x1f")
        h.update(str(value).encode())
    return h.hexdigest()


def coordination_figures(session: Session, campaign: Campaign) -> dict:
    """`reports.coordination.coordination` of `campaign`, cached with its unfiltered graph
    while neither the answers, the directory, the zones nor what coordinators recorded
    (instances, members, conventions, parties) change. Shared: do not modify."""
    e = entry(session, campaign)
    if e.version.startswith(FROZEN):  # the figures stored at close
        return e.derived("coordination", lambda g: coordination.coordination(session, campaign, g))
    version = _coordination_version(session, campaign)
    return e.derived(
        ("coordination", version), lambda g: coordination.coordination(session, campaign, g)
    )


# --- the cache -----------------------------------------------------------------------------


class Entry:
    """A campaign's graph for one filter at one data version, and values derived from it."""

    def __init__(self, key: tuple, version: str) -> None:
        self.key = key
        self.version = version
        self._graph: nx.DiGraph | None = None
        self._derived: dict[Hashable, Any] = {}
        self._build_lock = threading.Lock()
        self._lock = threading.Lock()
        # The figures frozen with a closed campaign (unfiltered entry only): served as they
        # were computed at close, for any betweenness sampling asked.
        self.stored_figures: dict | None = None

    @property
    def graph(self) -> nx.DiGraph:
        g = self._graph
        if g is None:
            raise RuntimeError("graph not built yet")
        return g

    def cached(self, name: Hashable) -> Any | None:
        """The derived value `name` if already computed, else None."""
        with self._lock:
            return self._derived.get(name)

    def derived(self, name: Hashable, compute: Callable[[nx.DiGraph], T]) -> T:
        """`compute(graph)`, once per entry and name. Computed without holding a lock (two
        threads may compute it at once; the first stored wins, so callers share one value)."""
        with self._lock:
            if name in self._derived:
                return self._derived[name]
        value = compute(self.graph)
        with self._lock:
            return self._derived.setdefault(name, value)

    def all_figures(self, betweenness_k: int | None = None) -> dict:
        """`figures.all_figures` of the graph, cached. Shared: do not modify."""
        if self.stored_figures is not None:
            return self.stored_figures
        name = "all_figures" if betweenness_k is None else ("all_figures", betweenness_k)
        return self.derived(name, lambda g: figures.all_figures(g, betweenness_k))


class GraphCache:
    """LRU of `Entry`, keyed by (campaign id, data version, filter)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._comparisons: dict[tuple, dict] = {}
        self._frozen_figures: dict[str, dict] = {}  # by frozen data version
        self._lock = threading.Lock()
        self.builds = 0  # graphs built (for tests and measurements)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._comparisons.clear()
            self._frozen_figures.clear()

    def _keep(self, store: dict, key: Hashable, value: dict) -> dict:
        """Remember `value` under `key` in one of the parsed-snapshot stores, the oldest
        forgotten beyond max_entries; returns what the store holds (the first one stored)."""
        with self._lock:
            value = store.setdefault(key, value)
            while len(store) > self.max_entries:
                store.pop(next(iter(store)))
        return value

    def frozen_figures(self, session: Session, campaign: Campaign, version: str) -> dict | None:
        """The figures stored when `campaign` was frozen, parsed once per snapshot, without
        building its graph (the trend of a territory reads one per closed year); None when
        `version` (its data version) says it is not frozen."""
        if not version.startswith(FROZEN):
            return None
        with self._lock:
            if version in self._frozen_figures:
                return self._frozen_figures[version]
        value = _stored_figures(session, campaign)
        return None if value is None else self._keep(self._frozen_figures, version, value)

    def frozen_comparison(self, session: Session, before: Campaign, after: Campaign) -> dict | None:
        """The comparison stored with frozen `after` against `before` as frozen now, parsed
        once per pair of snapshot versions; None when there is none to read."""
        key = (before.id, _frozen_at(session, before), after.id, _frozen_at(session, after))
        if key[1] is None or key[3] is None:
            return None
        with self._lock:
            if key in self._comparisons:
                return self._comparisons[key]
        value = stored_comparison(session, before, after)
        return None if value is None else self._keep(self._comparisons, key, value)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(
        self,
        session: Session,
        campaign: Campaign,
        flt: GraphFilter = NO_FILTER,
        version: str | None = None,
    ) -> Entry:
        """The entry of `campaign` and `flt` at the current data version, its graph built.
        `version` may be given when the caller has just read it with the same session."""
        version = version or data_version(session, campaign)
        key = (campaign.id, version, flt)
        with self._lock:
            e = self._entries.get(key)
            if e is None:
                e = Entry(key, version)
                self._entries[key] = e
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        if e._graph is None:
            # One build per entry, even when many requests miss together.
            with e._build_lock:
                if e._graph is None:
                    g = build_graph(session, campaign, flt)
                    nx.freeze(g)
                    if flt == NO_FILTER:
                        e.stored_figures = self.frozen_figures(session, campaign, version)
                    e._graph = g
                    with self._lock:
                        self.builds += 1
        return e


# One cache per database engine (a process normally has one): a cache never answers for
# another database, and an engine that is dropped (tests make one per test) takes its
# cache with it.
_caches: weakref.WeakKeyDictionary[Engine, GraphCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(session: Session) -> GraphCache:
    """The cache of the database `session` reads."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    with _caches_lock:
        c = _caches.get(engine)
        if c is None:
            c = _caches[engine] = GraphCache()
        return c


def entry(
    session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER, version: str | None = None
) -> Entry:
    """The cached entry of `campaign` and `flt` at the current data version (built)."""
    return cache_for(session).entry(session, campaign, flt, version)


def graph(session: Session, campaign: Campaign, flt: GraphFilter = NO_FILTER) -> nx.DiGraph:
    """`build_graph(session, campaign, flt)`, from the cache when the data have not changed.
    Frozen and shared: read it, do not modify its attributes."""
    return entry(session, campaign, flt).graph


def all_figures(
    session: Session,
    campaign: Campaign,
    flt: GraphFilter = NO_FILTER,
    betweenness_k: int | None = None,
) -> dict:
    """`figures.all_figures` of the cached graph, itself cached; for a frozen campaign
    unfiltered, the figures stored at close, with no graph built. Shared: do not modify."""
    version = data_version(session, campaign)
    if flt == NO_FILTER:
        stored = cache_for(session).frozen_figures(session, campaign, version)
        if stored is not None:
            return stored
    return entry(session, campaign, flt, version).all_figures(betweenness_k)


def compare(
    session: Session,
    before: Campaign,
    after: Campaign,
    flt: GraphFilter = NO_FILTER,
    versions: tuple[str | None, str | None] = (None, None),
) -> dict:
    """`reports.compare.compare` on the cached graphs of both campaigns; the comparison
    itself is kept with the later campaign's entry, keyed by the earlier one's version.
    `versions` = the data versions of (before, after) when the caller has just read them."""
    if before.territory_id != after.territory_id:
        raise ValueError("campaigns of different territories")
    if flt == NO_FILTER:
        # Two frozen campaigns: the comparison made when the later one closed, read as it is
        # (no graph built) while neither has been frozen again.
        stored = cache_for(session).frozen_comparison(session, before, after)
        if stored is not None:
            return stored
    b = entry(session, before, flt, versions[0])
    a = entry(session, after, flt, versions[1])
    # What the comparison reads of each graph (its links and figures), kept with its entry:
    # computed once however many years it is compared with.
    side_before = b.derived("compare_side", lambda g: side_of_graph(g, b.stored_figures))
    side_after = a.derived("compare_side", lambda g: side_of_graph(g, a.stored_figures))
    # Both years read with today's merges (reports.compare.merged_now); a merge changes the
    # open year's version, not a frozen year's, hence the merges in the key.
    roots = current_roots(session, before.territory_id)
    return a.derived(
        ("compare", before.id, b.version, tuple(sorted(roots.items()))),
        lambda g: compare_sides(
            merged_now(side_before, roots),
            merged_now(side_after, roots),
            merged_departures(carrier_departures(session, before, after, flt), roots),
        ),
    )
