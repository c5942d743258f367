"""The coordination figures (reports.coordination) on a hand-made territory, each checked
against the computation written beside it; SQLite and PostgreSQL.

The world (campaign 2026, open). Structures (type → family; commune → zone):
    SIAO (siao → logement; Guéret → Nord)      CHRS (chrs → logement; « GUERET » → Nord)
    CCAS (ccas-cias → communes; Ahun → Nord)   CAF (caf → protection; Aubusson → Sud)
    CPAM (cpam → protection; Aubusson, placed in Nord by hand)
    UTAS (maisons-des-solidarites → public; Aubusson → Sud)
    ML (mission-locale → emploi; Bourganeuf → no zone)
    UDAF (udaf → associations; Guéret → Nord)  ASSO (association; no commune → no zone)
    VIDE (association; Aubusson → Sud; nobody answered, no tie)
    CHRS_OLD merged into CHRS (a member recorded under its old id counts as CHRS).
Zones: Nord (utas) {Guéret, Ahun}, Sud (epci) {Aubusson}, Désert (bassin) {Crocq}.

Declarations (respondent → partner, frequency, quality, nature, frame tags):
    d1  caf1  → SIAO  weekly     q1
    d2  caf1  → CHRS  monthly    q2  both     [commission]
    d3  caf2  → SIAO  quarterly  q3
    d4  ccas1 → CAF   weekly     q4  formal
    d5  cpam1 → SIAO  monthly    —
    d6  ml1   → CHRS  weekly     q1
    d7  utas1 → ML    occasional —
    d8  siao1 → CHRS  weekly     q4  formal
    d9  udaf1 → SIAO  weekly     q2           [planned_meeting]
    d10 chrs1 → ML    monthly    q3           [protocol]
siao2 and asso1 answered with no partner; ml2 left a draft (ticking the commission: not
counted); vide1 was invited and did not answer.
Ties (undirected): CAF–SIAO (d1, d3), CAF–CHRS (d2), CAF–CCAS (d4), CPAM–SIAO (d5),
CHRS–ML (d6, d10), ML–UTAS (d7), SIAO–CHRS (d8), SIAO–UDAF (d9).

Instances:
    Commission SIAO: members {SIAO, CHRS, CCAS, UTAS}, convener SIAO; ticked by siao1, siao2,
        chrs1, udaf1 (and ml2's draft).
    Réseau logement: members {SIAO, CHRS_OLD → CHRS, CCAS}, convener CAF (not a member).
    Groupe insertion: members {ML, CAF}.
    Ancienne commission (archived): members {SIAO, CHRS, CCAS, UTAS}.
Conventions (year 2026 = 2026-01-01 … 2026-12-31):
    A convention CAF–CCAS, 2025-01-01 → open                       in force
    B protocole CPAM–UDAF, 2024-06-01 → 2026-01-01                  in force (last day)
    C convention CPAM–ML, 2024-01-01 → 2025-12-31                    ended
    D charte SIAO–CAF, from 2027-01-01                               not yet
    E convention SIAO–CAF, 2020-01-01 → open, archived               not counted
    F charte SIAO alone, 2026-03-01 → open                           in force, no pair
    G protocole SIAO–CHRS–UTAS, 2026-12-31 → open                    in force (first day)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import Session, select

from reports import cache, coordination, privacy, snapshot
from reports.coordination import instance_members, zone_names
from reports.graph import GraphFilter, build_graph, is_frozen, source_of
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Convention,
    ConventionParty,
    Organisation,
    ResponseBody,
    Zone,
    ZoneCommune,
)
from survey.snapshots import CampaignSnapshot, SnapshotStructure
from survey.zones import commune_key
from tests.conftest import TEST_SECRET
from tests.reports.builders import Builder


@dataclass
class World:
    b: Builder
    campaign: Campaign
    bodies: dict[str, Body]
    zones: dict[str, Zone]
    conventions: dict[str, Convention]

    def id(self, key: str) -> int:
        oid = self.b.orgs[key].id
        assert oid is not None
        return oid

    def names(self, refs: list[dict]) -> list[str]:
        return [r["name"] for r in refs]


def add_body(session: Session, b: Builder, name: str, members: list[str], **kw) -> Body:
    body = Body(territory_id=b.territory.id, name=name, **kw)
    session.add(body)
    session.flush()
    for key in members:
        session.add(BodyMember(body_id=body.id, organisation_id=b.orgs[key].id))
    session.flush()
    return body


def add_convention(
    session: Session, b: Builder, title: str, parties: list[str], starts: date,
    ends: date | None = None, kind: str = "convention", active: bool = True,
) -> Convention:  # fmt: skip
    c = Convention(
        territory_id=b.territory.id, kind=kind, title=title, starts_on=starts, ends_on=ends,
        active=active,
    )  # fmt: skip
    session.add(c)
    session.flush()
    for key in parties:
        session.add(ConventionParty(convention_id=c.id, organisation_id=b.orgs[key].id))
    session.flush()
    return c


def add_zone(session: Session, b: Builder, name: str, kind: str, communes: list[str]) -> Zone:
    z = Zone(territory_id=b.territory.id, name=name, kind=kind)
    session.add(z)
    session.flush()
    for commune in communes:
        session.add(ZoneCommune(zone_id=z.id, key=commune_key(commune), commune=commune))
    session.flush()
    return z


def tick(session: Session, response, body: Body) -> None:
    session.add(ResponseBody(response_id=response.id, body_id=body.id))
    session.flush()


def build(session: Session) -> World:
    b = Builder.start(session)
    c = b.campaign(2026, "open")
    for key, type_, commune in (
        ("siao", "siao", "Guéret"), ("chrs", "chrs", "GUERET"), ("ccas", "ccas-cias", "Ahun"),
        ("caf", "caf", "Aubusson"), ("cpam", "cpam", "Aubusson"),
        ("utas", "maisons-des-solidarites", "Aubusson"), ("ml", "mission-locale", "Bourganeuf"),
        ("udaf", "udaf", "Guéret"), ("asso", "association", ""), ("vide", "association", "Aubusson"),
    ):  # fmt: skip
        b.org(key, type_).commune = commune
    b.org("chrs_old", "chrs", status="merged", merged_into="chrs")
    zones = {
        "nord": add_zone(session, b, "Nord", "utas", ["Guéret", "Ahun"]),
        "sud": add_zone(session, b, "Sud", "epci", ["Aubusson"]),
        "desert": add_zone(session, b, "Désert", "bassin", ["Crocq"]),
    }
    b.orgs["cpam"].zone_id = zones["nord"].id  # placed by hand
    for key in ("caf", "cpam", "ccas", "chrs"):
        session.add(b.orgs[key])
    for pro, org in (("caf1", "caf"), ("caf2", "caf"), ("ccas1", "ccas"), ("cpam1", "cpam"),
                     ("ml1", "ml"), ("ml2", "ml"), ("utas1", "utas"), ("siao1", "siao"),
                     ("siao2", "siao"), ("chrs1", "chrs"), ("udaf1", "udaf"), ("asso1", "asso"),
                     ("vide1", "vide")):  # fmt: skip
        b.pro(pro, org)
    b.invite(c, "ml2", "vide1")
    r = {
        "caf1": b.respond(c, "caf1", [
            {"org": "siao", "frequency": "weekly", "quality": 1},
            {"org": "chrs", "frequency": "monthly", "quality": 2, "nature": "both",
             "frames": ["commission"]},
        ]),
        "caf2": b.respond(c, "caf2", [{"org": "siao", "frequency": "quarterly", "quality": 3}]),
        "ccas1": b.respond(c, "ccas1", [
            {"org": "caf", "frequency": "weekly", "quality": 4, "nature": "formal"}]),
        "cpam1": b.respond(c, "cpam1", [{"org": "siao", "frequency": "monthly"}]),
        "ml1": b.respond(c, "ml1", [{"org": "chrs", "frequency": "weekly", "quality": 1}]),
        "ml2": b.respond(c, "ml2", [{"org": "caf", "frequency": "weekly"}], status="draft"),
        "utas1": b.respond(c, "utas1", [{"org": "ml", "frequency": "occasional"}]),
        "siao1": b.respond(c, "siao1", [
            {"org": "chrs", "frequency": "weekly", "quality": 4, "nature": "formal"}]),
        "siao2": b.respond(c, "siao2", []),
        "chrs1": b.respond(c, "chrs1", [
            {"org": "ml", "frequency": "monthly", "quality": 3, "frames": ["protocol"]}]),
        "udaf1": b.respond(c, "udaf1", [
            {"org": "siao", "frequency": "weekly", "quality": 2, "frames": ["planned_meeting"]}]),
        "asso1": b.respond(c, "asso1", []),
    }  # fmt: skip
    bodies = {
        "commission": add_body(session, b, "Commission SIAO", ["siao", "chrs", "ccas", "utas"],
                               convener_id=b.orgs["siao"].id, kind="commission",
                               frequency="weekly", thematiques="logement-hebergement"),
        "reseau": add_body(session, b, "Réseau logement", ["siao", "chrs_old", "ccas"],
                           convener_id=b.orgs["caf"].id, kind="reseau"),
        "insertion": add_body(session, b, "Groupe insertion", ["ml", "caf"]),
        "ancienne": add_body(session, b, "Ancienne commission", ["siao", "chrs", "ccas", "utas"],
                             active=False),
    }  # fmt: skip
    for who in ("siao1", "siao2", "chrs1", "udaf1", "ml2"):
        tick(session, r[who], bodies["commission"])
    conventions = {
        "A": add_convention(session, b, "A", ["caf", "ccas"], date(2025, 1, 1)),
        "B": add_convention(session, b, "B", ["cpam", "udaf"], date(2024, 6, 1),
                            date(2026, 1, 1), kind="protocole"),
        "C": add_convention(session, b, "C", ["cpam", "ml"], date(2024, 1, 1), date(2025, 12, 31)),
        "D": add_convention(session, b, "D", ["siao", "caf"], date(2027, 1, 1), kind="charte"),
        "E": add_convention(session, b, "E", ["siao", "caf"], date(2020, 1, 1), active=False),
        "F": add_convention(session, b, "F", ["siao"], date(2026, 3, 1), kind="charte"),
        "G": add_convention(session, b, "G", ["siao", "chrs", "utas"], date(2026, 12, 31),
                            kind="protocole"),
    }  # fmt: skip
    session.commit()
    return World(b, c, bodies, zones, conventions)


@pytest.fixture
def world(session) -> World:
    return build(session)


def item(d: dict, name: str) -> dict:
    return next(i for i in d["instances"]["items"] if i["name"] == name)


# --- instances -----------------------------------------------------------------------------


def test_participants_are_declared_members_are_recorded(session, world):
    d = coordination.coordination(session, world.campaign)
    com = item(d, "Commission SIAO")
    assert world.names(com["members"]) == ["CCAS", "CHRS", "SIAO", "UTAS"]
    # Ticked by siao1 and siao2 (SIAO: 2), chrs1 (CHRS: 1), udaf1 (UDAF: 1); ml2's draft
    # does not count. Most respondents first, then by name.
    assert [(p["name"], p["respondents"]) for p in com["participants"]] == [
        ("SIAO", 2), ("CHRS", 1), ("UDAF", 1),
    ]  # fmt: skip
    assert world.names(com["members_not_declaring"]) == ["CCAS", "UTAS"]
    assert world.names(com["participants_not_members"]) == ["UDAF"]
    assert com["convener"]["name"] == "SIAO" and com["convener"]["family"] == "logement"
    assert com["kind_label"] == "Commission" and com["frequency_label"] == "Chaque semaine"
    assert com["thematiques"] == ["Logement et hébergement"]
    assert com["active"] is True
    # The member recorded under CHRS_OLD's id counts as CHRS, which absorbed it.
    assert world.names(item(d, "Réseau logement")["members"]) == ["CCAS", "CHRS", "SIAO"]
    # Active instances first, archived last.
    assert [i["name"] for i in d["instances"]["items"]] == [
        "Commission SIAO", "Groupe insertion", "Réseau logement", "Ancienne commission",
    ]  # fmt: skip


def test_absent_members(session, world):
    d = coordination.coordination(session, world.campaign)
    # Commission SIAO, members {SIAO, CHRS, CCAS, UTAS}: need max(2, ⌈4/2⌉ = 2) = 2 members
    # strongly tied (two carriers, or weekly / monthly).
    #   CAF–SIAO (d1 weekly, d3), CAF–CHRS (d2 monthly), CCAS–CAF (d4 weekly): 3 strong
    #   → absent; carriers caf1 (naming two members, counted once), caf2, ccas1 → 3.
    #   ML–CHRS (d6 weekly, d10 monthly) is strong, UTAS–ML (d7: occasional, one carrier) is
    #   not → 1 → not absent (it would be with any tie: 2).
    #   CPAM tied to SIAO only → 1: not; UDAF tied to SIAO only → 1: not.
    absent = item(d, "Commission SIAO")["absent"]
    assert [(a["name"], a["tied_members"], a["members"], a["carriers"]) for a in absent] == [
        ("CAF", 3, 4, 3),
    ]  # fmt: skip
    # Réseau logement, members {SIAO, CHRS, CCAS}: need max(2, 2) = 2. CAF is tied to the
    # three but convenes it: never listed. ML (CHRS), CPAM (SIAO), UDAF (SIAO) → 1 each.
    assert item(d, "Réseau logement")["absent"] == []
    # Groupe insertion, members {ML, CAF}: need max(2, 1) = 2. CHRS strongly tied to CAF (d2
    # monthly) and ML (d6 weekly, d10 monthly) → 2 → absent; carriers caf1, ml1, chrs1 → 3. SIAO, CCAS (CAF only) and UTAS
    # (ML only) → 1.
    absent = item(d, "Groupe insertion")["absent"]
    assert [(a["name"], a["tied_members"], a["members"], a["carriers"]) for a in absent] == [
        ("CHRS", 2, 2, 3),
    ]  # fmt: skip


def test_similar_instances_and_structures_outside(session, world):
    d = coordination.coordination(session, world.campaign)
    # Active instances with ≥ 2 members: Commission {SIAO, CHRS, CCAS, UTAS}, Réseau {SIAO,
    # CHRS, CCAS}, Insertion {ML, CAF}. Commission–Réseau: 3 shared / 4 in all = 0.75 ≥ 0.6;
    # the others share none. The archived one (identical to the Commission) is left out.
    assert d["instances"]["similar"] == [
        {
            "a": {"id": world.bodies["commission"].id, "name": "Commission SIAO"},
            "b": {"id": world.bodies["reseau"].id, "name": "Réseau logement"},
            "shared": 3,
            "jaccard": 0.75,
        }
    ]
    # In an active instance: members SIAO, CHRS, CCAS, UTAS, ML, CAF; participants UDAF.
    # CPAM (tied) and ASSO (answered, no partner) are outside; VIDE has neither a tie nor a
    # respondent: not listed.
    assert world.names(d["instances"]["outside"]) == ["ASSO", "CPAM"]


# --- official partnerships -----------------------------------------------------------------


def test_conventions_in_force_and_without_life(session, world):
    d = coordination.coordination(session, world.campaign)["official"]
    # In force in 2026: A (open), B (ends 2026-01-01), F (from 2026-03-01), G (starts
    # 2026-12-31); C ended 2025-12-31, D starts 2027, E archived. By start date.
    assert [c["title"] for c in d["in_force"]] == ["B", "A", "F", "G"]
    by = {c["title"]: c for c in d["in_force"]}
    # A: CAF–CCAS tied (d4) → 1 pair, alive. B: CPAM–UDAF not tied → 1 pair, 0 alive.
    # F: one party, no pair. G: SIAO–CHRS tied (d8), SIAO–UTAS and CHRS–UTAS not → 3, 1.
    assert [(by[t]["pairs"], by[t]["alive_pairs"]) for t in "ABFG"] == [
        (1, 1), (1, 0), (0, 0), (3, 1),
    ]  # fmt: skip
    assert by["B"]["kind_label"] == "Protocole" and by["B"]["ends_on"] == "2026-01-01"
    assert by["A"]["starts_on"] == "2025-01-01" and by["A"]["ends_on"] is None
    assert world.names(by["G"]["parties"]) == ["CHRS", "SIAO", "UTAS"]
    # Sans vie: in force, ≥ 2 parties, no alive pair → B only.
    assert [c["title"] for c in d["without_life"]] == ["B"]


def test_partnerships_without_frame(session, world):
    d = coordination.coordination(session, world.campaign)["official"]
    # Frequent ties (a declaration weekly or monthly) and what frames them:
    #   CAF–SIAO (d1 weekly, d3): no convention, no shared instance, no frame tag → listed;
    #     carriers caf1 + caf2 = 2, declarations 2, frequent 1.
    #   CPAM–SIAO (d5 monthly): nothing → listed; 1, 1, 1.
    #   CAF–CCAS (d4): convention A.            CAF–CHRS (d2): declared frame « commission ».
    #   SIAO–CHRS (d8): both Commission members.
    #   SIAO–UDAF (d9): UDAF takes part in the Commission (participant), SIAO a member; its
    #     frame « réunion planifiée » alone would not count.
    #   CHRS–ML (d6 weekly, d10 monthly): d10 declares « protocole ».  ML–UTAS: occasional.
    rows = [
        (r["a"]["name"], r["b"]["name"], r["carriers"], r["declarations"], r["frequent"])
        for r in d["without_frame"]
    ]
    pairs = [(tuple(sorted(r[:2])), *r[2:]) for r in rows]
    assert pairs == [(("CAF", "SIAO"), 2, 2, 1), (("CPAM", "SIAO"), 1, 1, 1)]


def test_each_of_the_three_frames_takes_a_pair_out(session, world):
    def listed() -> set[frozenset[str]]:
        d = coordination.coordination(session, world.campaign)["official"]
        return {frozenset((r["a"]["name"], r["b"]["name"])) for r in d["without_frame"]}

    cpam_siao = frozenset(("CPAM", "SIAO"))
    caf_siao = frozenset(("CAF", "SIAO"))
    assert {cpam_siao, caf_siao} == listed()
    # A convention in force between CPAM and SIAO.
    add_convention(session, world.b, "H", ["cpam", "siao"], date(2026, 1, 1))
    session.commit()
    assert listed() == {caf_siao}
    # An active instance where CAF and SIAO both sit.
    add_body(session, world.b, "Cellule", ["caf", "siao"])
    session.commit()
    assert listed() == set()


def test_a_declared_frame_counts_as_evidence(session, world):
    b, c = world.b, world.campaign
    b.pro("cpam2", "cpam")
    b.respond(c, "cpam2", [{"org": "siao", "frequency": "occasional", "frames": ["agreement"]}])
    session.commit()
    d = coordination.coordination(session, c)["official"]
    assert {frozenset((r["a"]["name"], r["b"]["name"])) for r in d["without_frame"]} == {
        frozenset(("CAF", "SIAO"))
    }


# --- zones ---------------------------------------------------------------------------------


def test_zones_by_commune_and_by_hand(session, world):
    g = build_graph(session, world.campaign)
    zone = {g.nodes[n]["name"]: g.nodes[n]["zone"] for n in g}
    # « GUERET » is Guéret folded; CPAM is in Aubusson but placed in Nord by hand.
    assert zone == {
        "SIAO": "Nord", "CHRS": "Nord", "CCAS": "Nord", "CPAM": "Nord", "UDAF": "Nord",
        "CAF": "Sud", "UTAS": "Sud", "VIDE": "Sud", "ML": "", "ASSO": "",
    }  # fmt: skip
    assert zone_names(session, world.campaign) == ["Désert", "Nord", "Sud"]


def test_figures_per_zone(session, world):
    z = coordination.coordination(session, world.campaign)["zones"]
    # Nord: SIAO, CHRS, CCAS, CPAM, UDAF (5); invited = responded = siao1, siao2, chrs1, ccas1,
    #   cpam1, udaf1 (6). Ties inside: CPAM–SIAO, SIAO–CHRS, SIAO–UDAF (3); out: CAF–SIAO,
    #   CAF–CHRS, CAF–CCAS (Sud), CHRS–ML (no zone) (4).
    # Sud: CAF, UTAS, VIDE (3); invited caf1, caf2, utas1, vide1 (4), responded 3 → 0.75.
    #   Inside 0; out: the three CAF ties and ML–UTAS (4).
    # Désert: nothing; participation None.
    rows = [
        (i["name"], i["kind_label"], i["structures"], i["invited"], i["responded"],
         i["participation"], i["ties_inside"], i["ties_out"])
        for i in z["items"]
    ]  # fmt: skip
    assert rows == [
        ("Désert", "Bassin de vie", 0, 0, 0, None, 0, 0),
        ("Nord", "UTAS", 5, 6, 6, 1.0, 3, 4),
        ("Sud", "EPCI", 3, 4, 3, 0.75, 0, 4),
    ]
    assert [i["id"] for i in z["items"]] == [world.zones[k].id for k in ("desert", "nord", "sud")]
    # No zone: ML (ml1 answered, ml2 invited with a draft) and ASSO (asso1): 2 structures,
    # invited 3, responded 2.
    assert z["unzoned"] == {"structures": 2, "invited": 3, "responded": 2}


def test_white_zones(session, world):
    z = coordination.coordination(session, world.campaign)["zones"]
    # Families with a structure: protection (CAF, CPAM), communes (CCAS), public (UTAS),
    # emploi (ML), logement (SIAO, CHRS), associations (UDAF, ASSO, VIDE); none in santé.
    # Nord's respondents name CAF (d4: protection), SIAO and CHRS (d5, d8, d9: logement), ML
    # (d10: emploi) → white: communes, public, associations.
    # Sud's name SIAO, CHRS (d1–d3: logement), ML (d7: emploi) → white: protection, communes,
    # public, associations. Désert has no respondent: never white.
    assert [(w["zone"], w["family"], w["respondents"]) for w in z["white"]] == [
        ("Nord", "communes", 6), ("Nord", "public", 6), ("Nord", "associations", 6),
        ("Sud", "protection", 3), ("Sud", "communes", 3), ("Sud", "public", 3),
        ("Sud", "associations", 3),
    ]  # fmt: skip
    assert z["white"][0]["zone_id"] == world.zones["nord"].id
    assert z["white"][0]["family_label"] == "Communes, CCAS, accueil de proximité"


def test_zone_filter_keeps_the_declarations_of_the_zone_and_every_structure(session, world):
    full = build_graph(session, world.campaign)
    nord = build_graph(session, world.campaign, GraphFilter(zone="Nord"))
    # Respondents in Nord: ccas1 (d4), cpam1 (d5), siao1 (d8), chrs1 (d10), udaf1 (d9).
    names = {n: a["name"] for n, a in full.nodes(data=True)}
    assert sorted((names[u], names[v]) for u, v in nord.edges) == [
        ("CCAS", "CAF"), ("CHRS", "ML"), ("CPAM", "SIAO"), ("SIAO", "CHRS"), ("UDAF", "SIAO"),
    ]  # fmt: skip
    assert set(nord.nodes) == set(full.nodes)  # structures stay, as with other link filters
    assert nord.graph["filters"]["zone"] == "Nord"
    sud = build_graph(session, world.campaign, GraphFilter(zone="Sud", frequency="weekly"))
    assert sorted((names[u], names[v]) for u, v in sud.edges) == [("CAF", "SIAO")]  # d1
    assert (
        build_graph(session, world.campaign, GraphFilter(zone="Nulle part")).number_of_edges() == 0
    )


def test_a_zone_change_invalidates_the_cached_graph(session, world):
    c = world.campaign
    cpam = world.id("cpam")
    assert cache.graph(session, c).nodes[cpam]["zone"] == "Nord"
    # By hand back to its commune: Aubusson → Sud.
    org = session.get(Organisation, cpam)
    org.zone_id = None
    session.add(org)
    session.commit()
    assert cache.graph(session, c).nodes[cpam]["zone"] == "Sud"
    # A commune moved from one zone to another (an import).
    zc = session.exec(select(ZoneCommune).where(ZoneCommune.key == commune_key("Aubusson"))).one()
    session.delete(zc)
    session.add(ZoneCommune(zone_id=world.zones["desert"].id, key=zc.key, commune=zc.commune))
    session.commit()
    assert cache.graph(session, c).nodes[cpam]["zone"] == "Désert"
    # A zone renamed.
    world.zones["desert"].name = "Plateau"
    session.add(world.zones["desert"])
    session.commit()
    assert cache.graph(session, c).nodes[cpam]["zone"] == "Plateau"
    # Aubusson's structures (CAF, CPAM, UTAS, VIDE) answer in Plateau now: CAF→SIAO (d1, d3),
    # CAF→CHRS (d2), CPAM→SIAO (d5), UTAS→ML (d7).
    assert cache.graph(session, c, GraphFilter(zone="Plateau")).number_of_edges() == 4


# --- quality and frames --------------------------------------------------------------------


def test_quality_per_pair_of_families(session, world):
    q = coordination.coordination(session, world.campaign)["quality"]
    # protection–communes: d4 (q4) → 1 answer, 0 difficult.
    # protection–logement: d1 (q1), d2 (q2), d3 (q3), d5 (none) → 3 answers, 2 difficult.
    # public–emploi: d7 (none) → 0 answers, share None.
    # emploi–logement: d6 (q1), d10 (q3) → 2, 1.     logement–logement: d8 (q4) → 1, 0.
    # logement–associations: d9 (q2) → 1, 1.
    assert [(p["a"], p["b"], p["answers"], p["difficult"], p["share"]) for p in q["pairs"]] == [
        ("protection", "communes", 1, 0, 0.0),
        ("protection", "logement", 3, 2, 2 / 3),
        ("public", "emploi", 0, 0, None),
        ("emploi", "logement", 2, 1, 0.5),
        ("logement", "logement", 1, 0, 0.0),
        ("logement", "associations", 1, 1, 1.0),
    ]
    assert q["pairs"][1]["b_label"] == "Hébergement et logement"


def test_frames_by_kind(session, world):
    q = coordination.coordination(session, world.campaign)["quality"]
    # agreement: none; commission: d2 (CAF–CHRS); protocol: d10 (CHRS–ML); planned meeting:
    # d9 (SIAO–UDAF). Formal declarations: d2 (both), d4 (formal), d8 (formal) → 3.
    assert [(f["code"], f["declarations"], f["pairs"]) for f in q["frames"]] == [
        ("agreement", 0, 0), ("commission", 1, 1), ("protocol", 1, 1), ("planned_meeting", 1, 1),
    ]  # fmt: skip
    assert q["frames"][1]["label"] == "Commission ou instance"
    assert q["formal_declarations"] == 3


# --- the public copy -----------------------------------------------------------------------


def test_privacy_suppression(session, world):
    d = coordination.coordination(session, world.campaign)
    before = json.dumps(d, sort_keys=True)
    p = privacy.suppress_coordination(d)
    assert json.dumps(d, sort_keys=True) == before  # a deep copy: the exact figures unchanged
    small = privacy.SMALL_DATA
    com = item(p, "Commission SIAO")
    assert [x["respondents"] for x in com["participants"]] == [small, small, small]  # 2, 1, 1
    assert [x["carriers"] for x in com["absent"]] == [3]
    zones = {z["name"]: z for z in p["zones"]["items"]}
    assert (zones["Nord"]["invited"], zones["Nord"]["participation"]) == (6, 1.0)
    assert (zones["Sud"]["responded"], zones["Sud"]["participation"]) == (3, 0.75)
    assert p["zones"]["unzoned"] == {"structures": 2, "invited": 3, "responded": small}
    assert {w["respondents"] for w in p["zones"]["white"]} == {6, 3}
    pairs = [(x["answers"], x["difficult"], x["share"]) for x in p["quality"]["pairs"]]
    # 1 answer → « < 3 », share withheld; 3 answers with 2 difficult → difficult « < 3 »,
    # share withheld; 0 answers stays 0.
    assert pairs == [
        (small, 0, None), (3, small, None), (0, 0, None), (small, small, None),
        (small, 0, None), (small, small, None),
    ]  # fmt: skip
    assert [f["declarations"] for f in p["quality"]["frames"]] == [0, small, small, small]
    assert p["quality"]["formal_declarations"] == 3
    assert [(r["carriers"], r["declarations"], r["frequent"]) for r in
            p["official"]["without_frame"]] == [(small, small, small)] * 2  # fmt: skip
    # Structures, pairs and instances are not people: kept.
    assert [c["pairs"] for c in p["official"]["in_force"]] == [1, 1, 0, 3]
    assert p["instances"]["similar"] == d["instances"]["similar"]


def test_a_zone_participation_on_one_or_two_people_is_withheld():
    d = {
        "zones": {
            "items": [
                {"name": "A", "invited": 4, "responded": 2, "participation": 0.5},
                {"name": "B", "invited": 2, "responded": 0, "participation": 0.0},
                {"name": "C", "invited": 0, "responded": 0, "participation": None},
            ],
            "unzoned": {"structures": 1, "invited": 1, "responded": 1},
            "white": [],
        }
    }
    p = privacy.suppress_coordination(d)["zones"]
    assert [(z["invited"], z["responded"], z["participation"]) for z in p["items"]] == [
        (4, "< 3", None), ("< 3", 0, None), (0, 0, None),
    ]  # fmt: skip


# --- instance highlight --------------------------------------------------------------------


def test_instance_members(session, world):
    c = world.campaign
    assert instance_members(session, c, world.bodies["reseau"].id) == {
        world.id("siao"),
        world.id("chrs"),
        world.id("ccas"),
    }
    assert instance_members(session, c, 10**9) is None
    other = Builder.start(session, "19", "Corrèze")
    other.org("x")
    foreign = add_body(session, other, "Ailleurs", ["x"])
    session.commit()
    assert instance_members(session, c, foreign.id) is None


# --- closed campaigns ----------------------------------------------------------------------


def _edit_after_close(session: Session, world: World) -> None:
    """A member, a convention, a zone and a participant's tick added after the close."""
    session.add(BodyMember(body_id=world.bodies["commission"].id, organisation_id=world.id("caf")))
    add_convention(session, world.b, "H", ["cpam", "siao"], date(2026, 1, 1))
    add_zone(session, world.b, "Ouest", "autre", ["Bourganeuf"])
    session.commit()


def test_a_closed_year_is_frozen_until_reopened(session, world):
    c = world.campaign
    snapshot.close(session, c)
    session.commit()
    assert is_frozen(session, c)
    at_close = coordination.coordination(session, c)
    assert at_close == json.loads(json.dumps(at_close))  # as stored
    row = session.get(CampaignSnapshot, c.id)
    assert row is not None and row.coordination is not None
    zones = dict(
        session.exec(
            select(SnapshotStructure.name, SnapshotStructure.zone).where(
                SnapshotStructure.campaign_id == c.id
            )
        ).all()
    )
    assert zones["CPAM"] == "Nord" and zones["ML"] == ""
    _edit_after_close(session, world)
    assert coordination.coordination(session, c) == at_close
    assert zone_names(session, c) == ["Nord", "Sud"]  # the zones structures were in at close
    assert instance_members(session, c, world.bodies["commission"].id) == {
        world.id(k) for k in ("siao", "chrs", "ccas", "utas")
    }
    assert build_graph(session, c).nodes[world.id("ml")]["zone"] == ""
    snapshot.reopen(session, c, TEST_SECRET)
    session.commit()
    snapshot.close(session, c)
    session.commit()
    again = coordination.coordination(session, c)
    assert again != at_close
    assert "CAF" in world.names(item(again, "Commission SIAO")["members"])
    assert "H" in [x["title"] for x in again["official"]["in_force"]]
    assert "Ouest" in [z["name"] for z in again["zones"]["items"]]
    assert build_graph(session, c).nodes[world.id("ml")]["zone"] == "Ouest"


def test_frozen_rows_give_the_figures_stored_at_close(session, world):
    """Computed again from the frozen declarations (frames included) and structures, with
    nothing changed since, the figures are the stored ones; freeze_missing fills them in
    for a snapshot that lacks them."""
    c = world.campaign
    snapshot.close(session, c)
    session.commit()
    kept = coordination.stored(session, c)
    recomputed = coordination.compute(session, source_of(session, c))
    assert json.loads(json.dumps(recomputed)) == kept
    row = session.get(CampaignSnapshot, c.id)
    row.coordination = None
    session.add(row)
    session.commit()
    assert snapshot.freeze_missing(session) == 0  # nothing frozen anew …
    session.commit()
    assert coordination.stored(session, c) == kept  # … but the figures are filled in


def test_the_frozen_zone_filter_equals_the_live_one(session, world):
    c = world.campaign
    flts = [GraphFilter(zone="Nord"), GraphFilter(zone="Sud", nature="formal")]
    live = [build_graph(session, c, f) for f in flts]
    snapshot.close(session, c)
    session.commit()
    for f, g in zip(flts, live, strict=True):
        frozen = build_graph(session, c, f)
        assert list(frozen.nodes(data=True)) == list(g.nodes(data=True)), f
        assert list(frozen.edges(data=True)) == list(g.edges(data=True)), f


def test_cached_figures_follow_what_coordinators_record(session, world):
    """The page's figures are computed once per state: read twice, one dict; a member added,
    a convention's party added, an instance renamed each give new figures."""
    c = world.campaign
    first = cache.coordination_figures(session, c)
    assert cache.coordination_figures(session, c) is first
    assert first == coordination.coordination(session, c)

    # CPAM joins the Commission SIAO: it is a member now.
    session.add(BodyMember(body_id=world.bodies["commission"].id, organisation_id=world.id("cpam")))
    session.commit()
    second = cache.coordination_figures(session, c)
    assert second is not first
    assert "CPAM" in world.names(item(second, "Commission SIAO")["members"])

    # Convention F (SIAO alone: no pair) gains CHRS: one pair, alive (SIAO–CHRS tied).
    session.add(
        ConventionParty(convention_id=world.conventions["F"].id, organisation_id=world.id("chrs"))
    )
    session.commit()
    third = cache.coordination_figures(session, c)
    assert third is not second

    def f(d: dict) -> tuple[int, int]:
        x = next(x for x in d["official"]["in_force"] if x["title"] == "F")
        return x["pairs"], x["alive_pairs"]

    assert (f(second), f(third)) == ((0, 0), (1, 1))

    body = world.bodies["insertion"]
    body.name = "Groupe insertion et emploi"
    session.add(body)
    session.commit()
    assert "Groupe insertion et emploi" in [
        i["name"] for i in cache.coordination_figures(session, c)["instances"]["items"]
    ]
