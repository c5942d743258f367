"""What the département may read: structures are named, professionals never.

The « < 3 » rule: a count of professionals between 1 and 2 could single someone out (« the
only CARSAT respondent cited turn-over »), so it is printed as « < 3 », and any rate or
figure computed from such a count is withheld. Zero is printed: it describes nobody.
Counts of structures and of links are not counts of people and are printed as they are.

The report is built only from the structure-level graph (reports.graph puts no name, e-mail
or id of a professional in it), from aggregated obstacle counts and from campaign dates:
free comments and contact names are never read.

The same rule holds wherever figures leave the coordination (docs/rgpd.md, « Règle des
petits effectifs »): every export of the graph (`reports.exports`, CLI and web), the figures
and graph API and the viewer's pages. `small_count`, `small_rate`, `suppress_graph` and
`suppress_figures` (and `suppress_coordination`) below are the one place it is written; the PDF prints through `people` and
`rate`. Coordinators' own pages keep exact counts: they already see the names.
"""

from __future__ import annotations

import copy
from typing import Any

import networkx as nx

from survey import french

THRESHOLD = 3
SMALL = "<\u00a03"  # « < 3 », the no-break space keeps it on one line
# The same in data (CSV, JSON, API): plain spaces, what a program or a spreadsheet reads.
SMALL_DATA = "< 3"
WITHHELD_RATE = "—"  # a rate built on a small count of people

# Who reads a set of figures: a coordinator of the territory sees exact counts, anyone else
# (viewer, département, export file) the « < 3 » rule.
COORDINATOR = "coordinator"
PUBLIC = "public"

# Counts of people in the structure-level graph (reports.graph): per structure, the
# professionals invited, those who responded and those who carry its ties. Every integer
# attribute of a tie (carriers, declarations, natures, frequencies, practices, thématiques)
# counts professionals declaring it.
NODE_PEOPLE = ("invited", "responded", "link_carriers")


def is_small(n: int | None) -> bool:
    """True for a count of professionals that must not be printed (1 or 2)."""
    return n is not None and 0 < n < THRESHOLD


def people(n: int | None) -> str:
    """A count of professionals as printed: « < 3 » for 1 and 2."""
    if n is None:
        return "—"
    return SMALL if is_small(n) else french.integer(n)


def rate(num: int, den: int) -> str:
    """A response rate, withheld when either side is a small count of people."""
    if not den:
        return "—"
    if is_small(den) or is_small(num):
        return "—"
    return french.percent(num / den)


def pool_small_groups(
    rows: list[dict], size_key: str, label_key: str, label: str, sum_keys: tuple[str, ...]
) -> list[dict]:
    """Rows whose `size_key` (a count of people) is small are merged into one row called
    `label`: a table by type of structure then never describes one or two people alone.
    Nested dicts under `sum_keys` are summed key by key, numbers are added."""
    kept = [r for r in rows if not is_small(r[size_key])]
    small = [r for r in rows if is_small(r[size_key])]
    if not small:
        return kept
    pooled: dict = {label_key: label, "pooled": len(small), size_key: 0}
    for key in sum_keys:
        pooled[key] = {} if isinstance(small[0].get(key), dict) else 0
    for r in small:
        pooled[size_key] += r[size_key]
        for key in sum_keys:
            if isinstance(pooled[key], dict):
                for k, v in (r.get(key) or {}).items():
                    pooled[key][k] = pooled[key].get(k, 0) + v
            else:
                pooled[key] += r.get(key) or 0
    return [*kept, pooled]


def _small(n: Any) -> bool:
    """is_small for any value: an integer count of 1 or 2, or one already printed « < 3 »."""
    if isinstance(n, bool):
        return False
    return n == SMALL_DATA if isinstance(n, str) else isinstance(n, int) and is_small(n)


def small_count(n: Any) -> Any:
    """A count of people as data: « < 3 » (SMALL_DATA) for 1 and 2, anything else as it is."""
    return SMALL_DATA if _small(n) else n


def small_rate(value: Any, *counts: Any) -> Any:
    """A rate as data: « — » when one of the counts of people it is built on is 1 or 2."""
    return WITHHELD_RATE if any(_small(c) for c in counts) else value


def tie_people(attrs: dict) -> dict:
    """One tie's attributes with every count of people as data (« < 3 »), the mean quality
    withheld when 1 or 2 professionals declare it."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, dict):
            out[key] = {k: small_count(v) for k, v in value.items()}
        else:
            out[key] = small_count(value)
    if _small(attrs.get("declarations")) or _small(attrs.get("carriers")):
        # A mean of one or two answers gives them away: withheld (left out of GEXF/GraphML).
        out["quality_mean"] = None
    return out


def suppress_graph(g: nx.DiGraph) -> nx.DiGraph:
    """A copy of a structure-level graph where every count of 1 or 2 people reads « < 3 »:
    the node counts of NODE_PEOPLE and every count on a tie. Structures, their names and
    the ties themselves are kept (counts of structures and links are not counts of people)."""
    h = nx.DiGraph()
    h.graph.update(g.graph)
    h.add_nodes_from((n, node_people(a)) for n, a in g.nodes(data=True))
    h.add_edges_from((u, v, tie_people(a)) for u, v, a in g.edges(data=True))
    return h


def _participation_row(row: dict) -> dict:
    return row | {
        "invited": small_count(row.get("invited")),
        "responded": small_count(row.get("responded")),
        "rate": small_rate(row.get("rate"), row.get("invited"), row.get("responded")),
    }


def _obstacles(ob: dict) -> dict:
    return ob | {
        "respondents": small_count(ob.get("respondents")),
        "totals": [
            r | {"responses": small_count(r.get("responses"))} for r in ob.get("totals", [])
        ],
        "by_type": [
            t
            | {
                "respondents": small_count(t.get("respondents")),
                "obstacles": {k: small_count(v) for k, v in (t.get("obstacles") or {}).items()},
            }
            for t in ob.get("by_type", [])
        ],
    }


def suppress_figures(figs: dict, audience: str) -> dict:
    """The figures of reports.figures (all_figures, with `obstacles` when present) as
    `audience` may read them: unchanged for a coordinator; otherwise a copy where counts of
    1 or 2 people (invited, responded, respondents, obstacles cited) read « < 3 » and the
    rates built on them « — ». `figs` itself is never changed (it may be cached)."""
    if audience == COORDINATOR:
        return figs
    out = dict(figs)
    p = figs.get("participation")
    if isinstance(p, dict):
        out["participation"] = _participation_row(p) | {
            "structures": [_participation_row(r) for r in p.get("structures", [])],
            "by_type": [_participation_row(r) for r in p.get("by_type", [])],
        }
        if isinstance(figs.get("headline"), dict):
            out["headline"] = figs["headline"] | {"response_rate": out["participation"]["rate"]}
        if "response_rate" in figs:
            out["response_rate"] = out["participation"]["rate"]
    if isinstance(figs.get("obstacles"), dict):
        out["obstacles"] = _obstacles(figs["obstacles"])
    fs = figs.get("formal_share")
    if isinstance(fs, dict):
        by_nature = fs.get("declarations_by_nature") or {}
        out["formal_share"] = fs | {
            "declarations": small_count(fs.get("declarations")),
            "declarations_by_nature": {k: small_count(v) for k, v in by_nature.items()},
        }
    bt = figs.get("built_together")
    if isinstance(bt, dict):
        out["built_together"] = {
            k: [r | {"declarations": small_count(r.get("declarations"))} for r in rows]
            for k, rows in bt.items()
        }
    return out


CARRIER_KEYS = ("carriers", "carriers_before", "carriers_after")


def suppress_comparison(result: dict, audience: str) -> dict:
    """A year-over-year comparison (reports.compare) as `audience` may read it: the number
    of professionals carrying each link (before, after) reads « < 3 » for 1 or 2. Whether a
    link gained carriers is kept: it says nothing of how many."""
    if audience == COORDINATOR:
        return result
    return {
        k: [r | {c: small_count(r[c]) for c in CARRIER_KEYS if c in r} for r in v]
        if isinstance(v, list)
        else v
        for k, v in result.items()
    }


def _labelled(items: list[dict]) -> list[dict]:
    return [i | {"count": small_count(i.get("count"))} for i in items]


def suppress_structure(summary: dict, audience: str) -> dict:
    """A structure's page (reports.structure.summary) as `audience` may read it: its
    invited, respondents and carriers, and per partner the professionals carrying the tie
    here and there, the declarations by nature and what is built together."""
    if audience == COORDINATOR:
        return summary
    carried = ("carriers_here", "carriers_there", "carriers")
    partners = [
        r
        | {k: small_count(r[k]) for k in carried if k in r}
        | {
            "natures": {c: small_count(n) for c, n in (r.get("natures") or {}).items()},
            "practices": _labelled(r.get("practices") or []),
            "thematiques": _labelled(r.get("thematiques") or []),
        }
        for r in summary.get("partners", [])
    ]
    return node_people(summary) | {
        "partners": partners,
        "practices": _labelled(summary.get("practices") or []),
        "thematiques": _labelled(summary.get("thematiques") or []),
    }


def suppress_table_row(row: dict, audience: str) -> dict:
    """One link of the accessible table (app.routes.graph.table_row): its carriers, its
    declarations by nature and by frequency."""
    if audience == COORDINATOR:
        return row
    return row | {
        "carriers": small_count(row.get("carriers")),
        "natures": {c: small_count(n) for c, n in (row.get("natures") or {}).items()},
        "frequencies": [(label, small_count(n)) for label, n in row.get("frequencies") or []],
    }


def audience_of(can_write: bool) -> str:
    """The audience of a workspace scope: coordinators (and administrators) write."""
    return COORDINATOR if can_write else PUBLIC


def node_people(attrs: dict[str, Any]) -> dict[str, Any]:
    """One structure's attributes with its counts of people as data (« < 3 »)."""
    return {k: small_count(v) if k in NODE_PEOPLE else v for k, v in attrs.items()}


def _people_keys(row: dict, keys: tuple[str, ...]) -> dict:
    return row | {k: small_count(row[k]) for k in keys if k in row}


def suppress_coordination(d: dict) -> dict:
    """The public copy of `reports.coordination.coordination` (a deep copy; `d` is left as
    it is): every count of professionals or of their declarations reads « < 3 » for 1 and 2
    — instance participants' respondents, « membres absents »' carriers, zones' invited and
    responded, white zones' respondents, quality answers and difficult, declarations per
    frame and formal declarations, « partenariats sans cadre »' carriers, declarations and
    frequent ones — and the rates built on them are withheld (None): a zone's participation
    when its invited or responded is 1 or 2, a quality share when fewer than 3 answers or
    1 or 2 difficult ones. Counts of structures, pairs and instances are kept."""
    out = copy.deepcopy(d)
    inst = out.get("instances") or {}
    for item in inst.get("items", []):
        item["participants"] = [_people_keys(p, ("respondents",)) for p in item["participants"]]
        item["absent"] = [_people_keys(a, ("carriers",)) for a in item["absent"]]
    official = out.get("official") or {}
    if "without_frame" in official:
        official["without_frame"] = [
            _people_keys(r, ("carriers", "declarations", "frequent"))
            for r in official["without_frame"]
        ]
    zones = out.get("zones") or {}
    if "items" in zones:
        zones["items"] = [
            _people_keys(z, ("invited", "responded"))
            | {
                "participation": None
                if is_small(z.get("invited")) or is_small(z.get("responded"))
                else z.get("participation")
            }
            for z in zones["items"]
        ]
    if isinstance(zones.get("unzoned"), dict):
        zones["unzoned"] = _people_keys(zones["unzoned"], ("invited", "responded"))
    if "white" in zones:
        zones["white"] = [_people_keys(w, ("respondents",)) for w in zones["white"]]
    quality = out.get("quality") or {}
    if "pairs" in quality:
        quality["pairs"] = [
            _people_keys(q, ("answers", "difficult"))
            | {
                "share": None
                if (q.get("answers") or 0) < THRESHOLD or is_small(q.get("difficult"))
                else q.get("share")
            }
            for q in quality["pairs"]
        ]
    if "frames" in quality:
        quality["frames"] = [_people_keys(f, ("declarations",)) for f in quality["frames"]]
    if "formal_declarations" in quality:
        quality["formal_declarations"] = small_count(quality["formal_declarations"])
    return out
