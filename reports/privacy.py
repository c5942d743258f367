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
import functools
import itertools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

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


# --- complementary suppression -----------------------------------------------------------
#
# A table whose rows (or columns) add up to a printed total gives a « < 3 » away by
# subtraction: « 4 | < 3 | 0 | 3 » is one person not started. `protect_table` hides enough
# other cells for that never to work. Its two marks say only what is true of the cell:
# « < 3 » is 0, 1 or 2 (a 0 reads « < 3 » when it hides another cell), « masqué » is 3 or
# more. The reader is assumed to know this rule.

HIDDEN = "masqué"  # a count of 3 or more hidden so that no « < 3 » can be computed back

K = TypeVar("K", bound=Hashable)

Line = tuple[K, Sequence[K]]


def _bits(values: range | tuple[int, ...], cap: int) -> int:
    """The set of integers `values` within [0, cap] as a bit set."""
    out = 0
    for v in values:
        if 0 <= v <= cap:
            out |= 1 << v
    return out


def _add(a: int, b: int, cap: int) -> int:
    """Every sum x + y (x in a, y in b) up to `cap`, sets as bit sets."""
    out, y = 0, 0
    while b >> y:
        if (b >> y) & 1:
            out |= a << y
        y += 1
    return out & ((1 << (cap + 1)) - 1)


def _solutions(total: int, parts: list[int], cap: int) -> list[int]:
    """For the equation total = sum(parts), each side a set of possible values (bit sets):
    the values still possible for the total (index 0) and for each part (index 1, 2, …)."""
    n = len(parts)
    prefix = [1]  # sums of parts[:i]
    for p in parts:
        prefix.append(_add(prefix[-1], p, cap))
    suffix = [1] * (n + 1)  # sums of parts[i:]
    for i in range(n - 1, -1, -1):
        suffix[i] = _add(suffix[i + 1], parts[i], cap)
    possible = [total & prefix[n]]
    for i, p in enumerate(parts):
        others = _add(prefix[i], suffix[i + 1], cap)
        possible.append(
            sum(1 << v for v in range(cap + 1) if (p >> v) & 1 and (total >> v) & others)
        )
    return possible


def _row_values(low: int, high: int, totals: frozenset[int]) -> list[set[int]]:
    """Every value each « < 3 » part may take in a row of `low` parts read « < 3 » (0 to 2,
    one at least being 1 or 2) and `high` read « masqué » (3 or more), its total in `totals`."""
    seen: list[set[int]] = [set() for _ in range(low)]
    for lows in itertools.product(range(THRESHOLD), repeat=low):
        rest = [t - sum(lows) for t in totals]
        # `high` counts of 3 or more add up to 0 when there are none, else to any sum from
        # 3 * high up.
        if any(lows) and any(r == 0 if not high else r >= THRESHOLD * high for r in rest):
            for i, v in enumerate(lows):
                seen[i].add(v)
    return seen


@functools.cache
def _hidden_totals(low: int, high: int) -> frozenset[int]:
    """The totals a row of `low` parts read « < 3 » and `high` read « masqué » hides: those
    that would pin a « < 3 » down, and their neighbours, until a hidden total does not either
    (« 7 | < 3 | masqué | masqué » is 1, 3 and 3: 6 to 8 are hidden, and 8 may be 2, 3, 3)."""
    top = (THRESHOLD - 1) * low + THRESHOLD * high + 2 * THRESHOLD
    unsafe = {
        t
        for t in range(1, top)
        if any(len(v) < 2 for v in _row_values(low, high, frozenset({t})))
        and any(_row_values(low, high, frozenset({t})))
    }
    hidden = set(unsafe)
    while hidden and any(len(v) < 2 for v in _row_values(low, high, frozenset(hidden))):
        if max(hidden) > 2 * top:  # never: the neighbours always leave room
            raise AssertionError((low, high, sorted(hidden)))
        hidden.add(max(hidden) + 1)
        if min(hidden) > THRESHOLD:  # 1 and 2 read « < 3 », not « masqué »
            hidden.add(min(hidden) - 1)
    return frozenset(hidden)


def protect_table(
    values: Mapping[K, int], rows: Sequence[Line[K]], columns: Sequence[Line[K]] = ()
) -> dict[K, int | str]:
    """The cells of a table of counts of people as a reader outside the coordination may see
    them: each value, SMALL_DATA (« < 3 ») or HIDDEN (« masqué »).

    `rows` and `columns` are lines that add up: (total, parts), values[total] == the sum of
    the parts. The rule:
    1. a row with a count of 1 or 2 (its total or a part) shows none of its parts: 0 to 2
       read « < 3 », 3 and more « masqué ». The reader learns which parts are small, never
       which are the one or two people; its total stays unless, with that pattern, it would
       pin a « < 3 » down (« 6 | < 3 | < 3 | < 3 » is 2, 2 and 2: « 7 | < 3 | masqué |
       masqué » is 1, 3 and 3), and a total of 1 or 2 reads « < 3 ».
       Hiding a whole row rather than its next smallest cell matters: a reader who knows
       « the next smallest was hidden » learns that it was the smallest (« 10 | < 3 |
       masqué | 4 »: the hidden one is 3 or 4, so the « < 3 » is 2 or 3, so 2).
    2. then, while a column line lets a reader pin a hidden cell down (its total minus the
       cells shown, each hidden cell between the bounds of its mark), the row of the smallest
       part still shown on that line is hidden as in 1 (the total, if all its parts are).
    So a row never gives a hidden count back whatever its values, and no column does
    through its total alone.
    """
    cap = max([*values.values(), 0])
    small: set[K] = set()
    hidden: set[K] = set()

    def hide(k: K) -> None:
        (small if values[k] < THRESHOLD else hidden).add(k)

    def hide_row(total: K, parts: Sequence[K]) -> None:
        for p in parts:
            hide(p)
        low = sum(values[p] < THRESHOLD for p in parts)
        if is_small(values[total]) or values[total] in _hidden_totals(low, len(parts) - low):
            hide(total)

    row_of = {k: line for line in rows for k in (line[0], *line[1])}
    for total, parts in rows:
        if any(is_small(values[k]) for k in (total, *parts)):
            hide_row(total, parts)
    small.update(k for k, v in values.items() if is_small(v))  # outside any row too

    def domain(k: K) -> int:
        if k in small:
            return _bits((0, 1, 2), cap)
        if k in hidden:
            return _bits(range(THRESHOLD, cap + 1), cap)
        return _bits((values[k],), cap)

    def exposed(total: K, parts: Sequence[K]) -> bool:
        masked = small | hidden
        unknown = [p for p in parts if p in masked]
        if total not in masked and not unknown:
            return False
        known = sum(values[p] for p in parts if p not in masked)  # total - known = the rest
        possible = _solutions(domain(total) >> known, [domain(p) for p in unknown], cap)
        return any(
            possible[i].bit_count() < 2
            for i, k in enumerate([total, *unknown])
            if k in masked and values[k] <= cap
        )

    changed = True
    while changed:
        changed = False
        for total, parts in columns:
            if not exposed(total, parts):
                continue
            shown = [p for p in parts if p not in small and p not in hidden]
            if shown:
                pick = min(shown, key=lambda p: values[p])
                if pick in row_of:
                    hide_row(*row_of[pick])
                hide(pick)
            elif total not in small and total not in hidden:
                hide(total)
            else:
                continue  # nothing left to hide on this line
            changed = True
    return {
        k: SMALL_DATA if k in small else HIDDEN if k in hidden else v for k, v in values.items()
    }


FOLLOWUP_COLUMNS = ("not_started", "draft", "submitted")  # they add up to « invited »


@dataclass(frozen=True)
class ShownCounts:
    """One row of a campaign's follow-up (survey.campaigns.Counts) as a viewer reads it:
    each count a number, SMALL_DATA (« < 3 ») or HIDDEN (« masqué »)."""

    key: str | int | None
    label: str
    invited: int | str
    not_started: int | str
    draft: int | str
    submitted: int | str

    @property
    def rate(self) -> float:
        """Share of invited who submitted, in percent; 0 when either is not a number (the
        page then withholds the rate)."""
        if isinstance(self.invited, str) or isinstance(self.submitted, str) or not self.invited:
            return 0.0
        return 100.0 * self.submitted / self.invited


@dataclass(frozen=True)
class ShownFollowup:
    overall: ShownCounts
    by_organisation: list[ShownCounts]
    by_type: list[ShownCounts]


def suppress_followup(followup: Any, type_of: Mapping[Any, str]) -> ShownFollowup:
    """A campaign's follow-up (survey.campaigns.Followup: overall, per structure, per type
    of structure; invited = not started + draft + submitted) as a viewer reads it, by
    `protect_table`: its rows are each row (invited and its three columns), its columns each
    column down the structures of a type (its type's row), down the types and down all the
    structures (the overall row). `type_of` maps a structure's key to its type's."""
    cols = ("invited", *FOLLOWUP_COLUMNS)
    overall = ("overall", None)
    orgs = [(("org", c.key), c) for c in followup.by_organisation]
    types = [(("type", c.key), c) for c in followup.by_type]
    values: dict[tuple[tuple[str, Any], str], int] = {}
    for row, c in [(overall, followup.overall), *orgs, *types]:
        values.update({(row, col): int(getattr(c, col)) for col in cols})
    rows: list[tuple[Any, list[Any]]] = [
        ((row, "invited"), [(row, col) for col in FOLLOWUP_COLUMNS])
        for row in [overall, *(r for r, _ in orgs), *(r for r, _ in types)]
    ]
    columns: list[tuple[Any, list[Any]]] = []
    for col in cols:
        columns.append(((overall, col), [(r, col) for r, _ in types]))
        columns.append(((overall, col), [(r, col) for r, _ in orgs]))
        for trow, t in types:
            members = [(r, col) for r, c in orgs if type_of.get(c.key) == t.key]
            columns.append(((trow, col), members))
    shown = protect_table(values, rows, columns)

    def row_of(row: tuple[str, Any], c: Any) -> ShownCounts:
        return ShownCounts(c.key, c.label, *(shown[(row, col)] for col in cols))

    return ShownFollowup(
        overall=row_of(overall, followup.overall),
        by_organisation=[row_of(r, c) for r, c in orgs],
        by_type=[row_of(r, c) for r, c in types],
    )
