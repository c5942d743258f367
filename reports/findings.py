"""The three findings of the report's summary: plain French sentences derived from the data.

A small rules engine: each rule looks at the figures and proposes zero or more candidate
findings with a score in [0, 1] (how much it should worry or interest a decision maker);
the summary keeps the best three, at most one per kind, so the three sentences say three
different things. Rules only read structure-level figures: no sentence can name a person.

The coordination figures (reports.coordination, read in their public copy: the « < 3 »
rule already applied) give sentences of their own, one function per analysis
(`instance_findings`, `official_findings`, `zone_findings`, `quality_findings`): the PDF
prints them in its coordination sections, and the summary may pick the strongest one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx

from reports import privacy
from survey import french as t
from survey.vocab import FAMILIES


@dataclass(frozen=True)
class Finding:
    kind: str
    score: float
    sentence: str


@dataclass
class Facts:
    """What the rules read (computed once by the report)."""

    graph: nx.DiGraph
    figures: dict  # reports.figures.all_figures
    obstacles: dict  # reports.figures.obstacles
    comparison: dict | None  # reports.compare.compare, None without a previous year
    previous_year: int | None
    # reports.privacy.suppress_coordination(reports.coordination.coordination(...)), or None
    coordination: dict | None = None


Rule = Callable[[Facts], list[Finding]]


def _fragile_links(f: Facts) -> list[Finding]:
    fr = f.figures["fragility"]
    n = fr["fragile_count"]
    if not n:
        return []
    sentence = (
        f"{t.plural(n, 'partenariat')} sur {t.integer(fr['links'])} "
        f"({t.percent(fr['share'])}) {'ne tient' if n == 1 else 'ne tiennent'} qu'à une "
        "seule personne : si elle change de poste, le lien risque de disparaître."
    )
    return [Finding("fragility", 0.35 + 0.6 * (fr["share"] or 0), sentence)]


def _hanging_structures(f: Facts) -> list[Finding]:
    rows = f.figures["fragility"]["hanging_on_one_person"]
    if not rows:
        return []
    names = ", ".join(t.quote(r["name"]) for r in rows[:3])
    more = f" et {t.integer(len(rows) - 3)} autres" if len(rows) > 3 else ""
    verb = "repose" if len(rows) == 1 else "reposent"
    sentence = f"Tous les partenariats de {names}{more} {verb} sur une seule et même personne."
    return [Finding("fragility", 0.5 + min(len(rows), 10) * 0.04, sentence)]


def _silent_structures(f: Facts) -> list[Finding]:
    silent = [
        r for r in f.figures["participation"]["structures"] if r["invited"] and not r["responded"]
    ]
    if not silent:
        return []
    total = sum(1 for r in f.figures["participation"]["structures"] if r["invited"])
    n = len(silent)
    sentence = (
        f"{t.plural(n, 'structure')} invitée{'s' if n > 1 else ''} sur {t.integer(total)} "
        f"{'n’a répondu pour aucun de ses' if n == 1 else 'n’ont répondu pour aucun de leurs'} "
        "professionnels : on ne les connaît que par ce qu'en disent leurs partenaires."
    )
    return [Finding("participation", 0.3 + 0.6 * n / max(total, 1), sentence)]


def _low_response(f: Facts) -> list[Finding]:
    rate = f.figures["participation"]["rate"]
    if rate is None or rate >= 0.6:
        return []
    p = f.figures["participation"]
    sentence = (
        f"Seuls {t.percent(rate)} des professionnels invités ont répondu "
        f"({privacy.people(p['responded'])} sur {privacy.people(p['invited'])}) : "
        "les chiffres qui suivent décrivent une partie du réseau seulement."
    )
    return [Finding("participation", 0.9 - rate, sentence)]


def _family_never_cites(f: Facts) -> list[Finding]:
    """« Aucune structure d'hébergement ne cite la CAF »: a central structure that a whole
    family of answering structures never names."""
    g = f.graph
    families: dict[str, set] = {}
    for n, a in g.nodes(data=True):
        for fam in FAMILIES:
            if a.get("type") in fam.types:
                families.setdefault(fam.label, set()).add(n)
    out = []
    central = f.figures["centrality"]["most_connected"][:8]
    for rank, row in enumerate(central):
        x = row["id"]
        x_type = g.nodes[x].get("type")
        for fam in FAMILIES:
            if x_type in fam.types or fam.code == "autre":
                continue
            answering = [n for n in families.get(fam.label, ()) if g.nodes[n].get("answered")]
            if len(answering) < 2:
                continue
            if any(g.has_edge(n, x) for n in answering):
                continue
            family_name = fam.label[0].lower() + fam.label[1:]
            sentence = (
                f"{t.quote(row['name'])} compte parmi les structures les plus reliées, mais "
                f"aucune des {t.integer(len(answering))} structures « {family_name} » qui ont "
                "répondu ne la cite comme partenaire."
            )
            out.append(Finding("gap", 0.75 - rank * 0.05 + 0.02 * len(answering), sentence))
    return out


def _reciprocity(f: Facts) -> list[Finding]:
    r = f.figures["reciprocity"]
    if not r["observable_links"] or r["rate"] is None or r["rate"] >= 0.7:
        return []
    sentence = (
        f"Quand les deux structures ont répondu, {t.percent(1 - r['rate'])} des liens ne "
        f"sont cités que d'un seul côté ({t.integer(r['one_sided_count'])} sur "
        f"{t.integer(r['observable_links'])}) : l'un compte sur un partenaire qui ne le "
        "mentionne pas."
    )
    return [Finding("reciprocity", 0.3 + 0.5 * (1 - r["rate"]), sentence)]


def _isolated(f: Facts) -> list[Finding]:
    s = f.figures["size"]
    if not s["isolated_count"]:
        return []
    n = s["isolated_count"]
    sentence = (
        f"{t.plural(n, 'structure')} du répertoire {'n’a' if n == 1 else 'n’ont'} aucun "
        "partenaire déclaré cette année, ni cité ni citant."
    )
    return [Finding("isolated", 0.45 + min(n, 10) * 0.03, sentence)]


def _change(f: Facts) -> list[Finding]:
    c = f.comparison
    if not c:
        return []
    k = c["counts"]
    out = []
    if k["became_formal"]:
        out.append(
            Finding(
                "change",
                0.4 + min(k["became_formal"], 20) * 0.01,
                f"Depuis {f.previous_year}, {t.plural(k['became_formal'], 'lien')} "
                f"{'est devenu formel' if k['became_formal'] == 1 else 'sont devenus formels'} "
                "(convention, commission, protocole ou réunion planifiée).",
            )
        )
    if k["lost_with_carriers"] >= 3:
        # Read with care while answers are missing: a carrier who did not answer this year
        # has not necessarily left, so the score falls with the response rate.
        rate = f.figures["participation"]["rate"] or 0
        n = k["lost_with_carriers"]
        out.append(
            Finding(
                "change",
                (0.45 + min(n, 30) * 0.01) * rate,
                f"{t.plural(n, 'lien')} de {f.previous_year} {'a' if n == 1 else 'ont'} "
                "disparu alors qu'aucun des professionnels qui les portaient n'a répondu cette "
                "année depuis la même structure : départ, changement de poste ou silence.",
            )
        )
    return out


def _top_obstacle(f: Facts) -> list[Finding]:
    totals = f.obstacles["totals"]
    respondents = f.obstacles["respondents"]
    top = [row for row in totals if row["code"] != "other"]
    if not top or privacy.is_small(respondents) or privacy.is_small(top[0]["responses"]):
        return []
    row = top[0]
    sentence = (
        f"Le frein le plus cité est {t.quote(row['label'].lower())} : "
        f"{privacy.people(row['responses'])} répondants sur {privacy.people(respondents)} "
        "le mentionnent."
    )
    return [Finding("obstacle", 0.3 + 0.4 * row["responses"] / max(respondents, 1), sentence)]


ORDINALS = ("", "premier", "deuxième", "troisième", "quatrième", "cinquième", "sixième",
            "septième", "huitième", "neuvième", "dixième")  # fmt: skip
TURNOVER = "turnover"


def turnover_sentence(obstacles: dict) -> str:
    """The fragility section's opening: where turn-over stands among the obstacles cited
    (reports.figures.obstacles), said as the obstacles' chart ranks it. « le plus cité » only
    when no obstacle is cited more; a count of one or two respondents is never printed."""
    subject = "Le turn-over des équipes (les départs et les arrivées de professionnels)"
    why = (
        "un partenariat cité par un seul professionnel, d'un côté comme de l'autre, disparaît "
        "souvent avec son départ."
    )
    totals = obstacles["totals"]
    respondents = obstacles["respondents"]
    n = next((r["responses"] for r in totals if r["code"] == TURNOVER), 0)
    if not respondents:
        return f"{subject} menace les partenariats : {why}"
    if not n:
        return (
            f"Aucun répondant ne cite le turn-over des équipes (les départs et les arrivées de "
            f"professionnels) parmi les freins de l'année ; il reste un risque : {why}"
        )
    if privacy.is_small(n):
        return (
            f"{subject} est cité comme frein par moins de trois répondants sur "
            f"{privacy.people(respondents)} ; il reste un risque : {why}"
        )
    ahead = sum(1 for r in totals if r["responses"] > n)
    tied = [r for r in totals if r["responses"] == n and r["code"] != TURNOVER]
    how_many = f"{privacy.people(n)} répondants sur {privacy.people(respondents)}"
    if ahead == 0:
        rank = "est le frein le plus cité par les professionnels"
    elif ahead + 1 < len(ORDINALS):
        rank = f"est le {ORDINALS[ahead + 1]} frein le plus cité par les professionnels"
    else:
        rank = (
            f"vient après {t.plural(ahead, 'autre frein')} parmi ceux que citent les professionnels"
        )
    if tied:
        labels = [t.quote(_lower_first(r["label"])) for r in tied]
        with_ = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " et " + labels[-1]
        rank += f", à égalité avec {with_}"
    return f"{subject} {rank} ({how_many}) : {why}"


# --- coordination: instances, official partnerships, zones, quality ------------------------


def _count(n: int | str | None) -> str:
    """A count of professionals from the public copy: « < 3 » stays « < 3 »."""
    if isinstance(n, str):
        return privacy.SMALL
    return privacy.people(n)


def _lower_first(label: str) -> str:
    """« Caisses de protection sociale » → « caisses de protection sociale » (acronyms kept)."""
    return label[:1].lower() + label[1:]


def _names(refs: list[dict], limit: int = 3) -> str:
    """« A », « B » et « C » (then « et N autres »)."""
    names = [t.quote(r["name"]) for r in refs[:limit]]
    if len(refs) > limit:
        return ", ".join(names) + f" et {t.plural(len(refs) - limit, 'autre')}"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " et " + names[-1]


def absent_sentence(instance: dict) -> str | None:
    """« « Commission SIAO » ne compte ni « CAF » ni « CPAM » parmi ses membres, alors que
    leurs professionnels sont liés à 3 de ses 4 membres. » — the two most tied absent
    members by name, the others counted; None without absent member."""
    absent = instance.get("absent") or []
    if not absent:
        return None
    name = t.quote(instance["name"])
    members = t.integer(absent[0]["members"])
    first, rest = absent[:2], absent[2:]
    tied = [a["tied_members"] for a in first]
    if len(first) == 1:
        who = f"ne compte pas {t.quote(first[0]['name'])}"
        whose = "ses professionnels sont liés"
    else:
        who = f"ne compte ni {t.quote(first[0]['name'])} ni {t.quote(first[1]['name'])}"
        whose = "leurs professionnels sont liés"
    if len(set(tied)) == 1 and tied[0] == absent[0]["members"]:
        how_many = f"à chacun de ses {members} membres"
    elif len(set(tied)) == 1:
        how_many = f"à {t.integer(tied[0])} de ses {members} membres"
    else:
        how_many = (
            f"respectivement à {t.integer(tied[0])} et {t.integer(tied[1])} de ses "
            f"{members} membres"
        )
    sentence = f"{name} {who} parmi ses membres, alors que {whose} {how_many}"
    if rest:
        n = len(rest)
        sentence += (
            f" ; {t.plural(n, 'autre structure', 'autres structures')} {'est liée' if n == 1 else 'sont liées'} à "
            f"au moins {t.integer(min(a['tied_members'] for a in rest))} de ses membres"
        )
    return sentence + "."


ABSENT_NAMED = 3  # instances whose absent members the findings name, the others counted


def instance_findings(d: dict) -> list[Finding]:
    """Absent members (one sentence per instance), instances that overlap, structures in
    no instance."""
    inst = d["instances"]
    absent = []
    for i in inst["items"]:
        sentence = absent_sentence(i) if i.get("active", True) else None
        if sentence:
            share = max(a["tied_members"] / max(a["members"], 1) for a in i["absent"])
            absent.append(
                Finding("instances", 0.5 + 0.1 * share + 0.02 * len(i["absent"]), sentence)
            )
    # A director reads the few instances that miss the most; the table lists the others.
    out = best_first(absent)[:ABSENT_NAMED]
    if len(absent) > ABSENT_NAMED:
        more = len(absent) - ABSENT_NAMED
        out.append(
            Finding(
                "instances",
                min(f.score for f in out) - 0.001,
                f"{t.plural(more, 'autre instance', 'autres instances')} "
                f"{'a' if more == 1 else 'ont'} aussi des membres absents : le tableau les nomme.",
            )
        )
    for p in inst["similar"]:
        out.append(
            Finding(
                "instances",
                0.3 + 0.2 * p["jaccard"],
                f"{t.quote(p['a']['name'])} et {t.quote(p['b']['name'])} réunissent presque les "
                f"mêmes structures ({t.plural(p['shared'], 'membre')} en commun) : les mêmes "
                "personnes se déplacent deux fois.",
            )
        )
    n = len(inst["outside"])
    if n and any(i.get("active", True) for i in inst["items"]):
        out.append(
            Finding(
                "instances",
                0.25 + min(n, 20) * 0.005,
                f"{t.plural(n, 'structure')} du réseau "
                f"{'n’est membre' if n == 1 else 'ne sont membres'} d'aucune instance, et "
                f"aucun de {'ses' if n == 1 else 'leurs'} professionnels ne dit participer à "
                "l'une d'elles.",
            )
        )
    return out


def official_findings(d: dict) -> list[Finding]:
    """Conventions without life, then frequent partnerships without any frame."""
    out = []
    for c in d["official"]["without_life"]:
        out.append(
            Finding(
                "official",
                0.5,
                f"L'accord {t.quote(c['title'])} ({c['kind_label'].lower()}), signé par "
                f"{_names(c['parties'])}, est en vigueur, mais aucun professionnel ne déclare "
                "de lien entre ses signataires.",
            )
        )
    for p in d["official"]["without_frame"][:5]:
        carriers = p["carriers"]
        weight = 3 if isinstance(carriers, str) else carriers
        out.append(
            Finding(
                "official",
                0.35 + min(weight, 10) * 0.02,
                f"{t.quote(p['a']['name'])} et {t.quote(p['b']['name'])} travaillent ensemble "
                f"sans convention, sans instance commune et sans cadre déclaré : "
                f"{_frequent_clause(carriers, p['frequent'])}.",
            )
        )
    return out


def _masked(n: int | str | None) -> bool:
    """A count of professionals that is not printed: 1 or 2, or already « < 3 » (public copy)."""
    return isinstance(n, str) or (n is not None and privacy.is_small(n))


def _frequent_clause(carriers: int | str, frequent: int | str) -> str:
    """Who declares a frameless partnership and how many say weekly or monthly, as its table
    row has it (« Professionnels », « Chaque semaine ou mois »): a count of one or two is
    said « moins de trois », never printed."""
    often = "disent travailler ensemble chaque semaine ou chaque mois"
    if _masked(carriers):
        # 1 or 2 carriers: at least one says weekly or monthly (the partnership's definition).
        return (
            "moins de trois professionnels déclarent ce lien, dont au moins un qui dit "
            "travailler ensemble chaque semaine ou chaque mois"
        )
    declared = f"{_count(carriers)}{t.NBSP}professionnels déclarent ce lien"
    if _masked(frequent):
        return f"{declared}, dont moins de trois qui {often}"
    if isinstance(frequent, int) and isinstance(carriers, int) and frequent >= carriers:
        return f"{declared}, et tous {often}"
    return f"{declared}, dont {_count(frequent)} qui {often}"


def zone_findings(d: dict) -> list[Finding]:
    """One sentence per zone with white families."""
    by_zone: dict[str, list[str]] = {}
    for w in d["zones"]["white"]:
        by_zone.setdefault(w["zone"], []).append(w["family_label"])
    out = []
    for zone, families in by_zone.items():
        labels = [t.quote(_lower_first(f)) for f in families]
        listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " ni " + labels[-1]
        out.append(
            Finding(
                "zones",
                0.4 + 0.03 * min(len(families), 5),
                f"Dans la zone {t.quote(zone)}, aucun des professionnels qui y travaillent et "
                f"ont répondu ne déclare de lien avec une structure de la famille {listed}.",
            )
        )
    return out


def quality_findings(d: dict) -> list[Finding]:
    """The pairs of families where at least a third of the quality answers say « difficile »
    or « à améliorer » (shares withheld by the « < 3 » rule are never read)."""
    out = []
    for p in d["quality"]["pairs"]:
        share = p.get("share")
        if share is None or share < 1 / 3:
            continue
        a, b = t.quote(_lower_first(p["a_label"])), t.quote(_lower_first(p["b_label"]))
        between = f"entre structures {a}" if p["a"] == p["b"] else f"entre {a} et {b}"
        out.append(
            Finding(
                "quality",
                0.3 + 0.4 * share,
                f"{t.percent(share)} des réponses sur la qualité des liens {between} le disent "
                f"difficile ou à améliorer ({_count(p['difficult'])} sur {_count(p['answers'])}).",
            )
        )
    return out


def best_first(found: list[Finding]) -> list[Finding]:
    """`found` by score, best first (ties broken by sentence, for a stable order)."""
    return sorted(found, key=lambda x: (-x.score, x.sentence))


def coordination_findings(d: dict) -> list[Finding]:
    """Every coordination sentence, best first."""
    return best_first(
        [*instance_findings(d), *official_findings(d), *zone_findings(d), *quality_findings(d)]
    )


def _coordination(f: Facts) -> list[Finding]:
    """The strongest coordination sentence competes for the summary as one kind: the summary
    keeps room for the network's own findings."""
    if not f.coordination:
        return []
    return [
        Finding("coordination", x.score, x.sentence) for x in coordination_findings(f.coordination)
    ]


RULES: tuple[Rule, ...] = (
    _fragile_links,
    _hanging_structures,
    _silent_structures,
    _low_response,
    _family_never_cites,
    _reciprocity,
    _isolated,
    _change,
    _top_obstacle,
    _coordination,
)


def candidates(facts: Facts) -> list[Finding]:
    """Every candidate, best first (ties broken by sentence, for a stable order)."""
    found = [x for rule in RULES for x in rule(facts)]
    return sorted(found, key=lambda x: (-x.score, x.sentence))


def top_findings(facts: Facts, count: int = 3) -> list[Finding]:
    """The best `count` findings, one per kind."""
    chosen: list[Finding] = []
    for x in candidates(facts):
        if all(c.kind != x.kind for c in chosen):
            chosen.append(x)
        if len(chosen) == count:
            break
    return chosen
