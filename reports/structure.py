"""One structure seen in the graph: its partners both ways, and its ego network.

Pure functions of graphs built by reports.graph (no database), for the structure page, the
respondent's own map and their JSON. No professional is named: carriers are counts.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx

from reports import figures
from survey import vocab


def _merge_counts(*dicts: dict | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in (d or {}).items():
            out[k] = out.get(k, 0) + int(v)
    return out


def _labelled(counts: dict[str, int], labels: dict[str, str]) -> list[dict]:
    return [
        {"code": c, "label": labels.get(c, c), "count": n}
        for c, n in sorted(counts.items(), key=lambda x: (-x[1], labels.get(x[0], x[0])))
        if n
    ]


def _main_frequency(freqs: dict[str, int]) -> str | None:
    best = max(freqs.items(), key=lambda x: x[1], default=(None, 0))
    return best[0] if best[1] else None


def reciprocity_status(g: nx.DiGraph, n: Hashable, m: Hashable) -> str:
    """mutual | out (only n names m) | in (only m names n) | unknown (one side did not
    answer, so the missing direction says nothing)."""
    ab, ba = g.has_edge(n, m), g.has_edge(m, n)
    if ab and ba:
        return "mutual"
    if not (g.nodes[n].get("answered") and g.nodes[m].get("answered")):
        return "unknown"
    return "out" if ab else "in"


def partner_ids(g: nx.DiGraph, n: Hashable) -> set[Hashable]:
    """The structures `n` names or is named by."""
    return set(g.successors(n)) | set(g.predecessors(n))


def partner_count(g: nx.DiGraph, n: Hashable) -> int:
    """How many partners `n` has: distinct structures, whichever side named the other (the
    size of a structure on the maps, its « partenaires » in pages, API and exports)."""
    return len(partner_ids(g, n))


STATUS_LABELS = {
    "mutual": "Réciproque : chacune cite l'autre",
    "out": "Citée par cette structure seulement",
    "in": "Cite cette structure, sans réciproque",
    "unknown": "Réciprocité inconnue : une des deux structures n'a pas répondu",
}


def partners(g: nx.DiGraph, n: Hashable) -> list[dict]:
    """Every partner of `n`, in both directions, sorted by name."""
    rows = []
    for m in partner_ids(g, n):
        out_tie = g.edges[n, m] if g.has_edge(n, m) else None
        in_tie = g.edges[m, n] if g.has_edge(m, n) else None
        ties = [t for t in (out_tie, in_tie) if t]
        natures = {c: sum(t.get(c, 0) for t in ties) for c in vocab.NATURES}
        freqs = _merge_counts(*(t.get("frequencies") for t in ties))
        carriers = sum(t["carriers"] for t in ties)
        status = reciprocity_status(g, n, m)
        main = _main_frequency(freqs)
        rows.append(
            {
                "id": m,
                "name": g.nodes[m].get("name", str(m)),
                "type_label": g.nodes[m].get("type_label", ""),
                "answered": bool(g.nodes[m].get("answered")),
                "names_it": out_tie is not None,
                "named_by": in_tie is not None,
                "carriers_here": out_tie["carriers"] if out_tie else 0,
                "carriers_there": in_tie["carriers"] if in_tie else 0,
                "carriers": carriers,
                "fragile": carriers == 1,
                "formal": any(t.get("formal", 0) + t.get("both", 0) for t in ties),
                "natures": natures,
                "frequency": main,
                "frequency_label": vocab.FREQUENCIES.get(main, "") if main else "",
                "practices": _labelled(
                    _merge_counts(*(t.get("practices") for t in ties)), vocab.PRACTICES
                ),
                "thematiques": _labelled(
                    _merge_counts(*(t.get("thematiques") for t in ties)), vocab.THEMATIQUES
                ),
                "status": status,
                "status_label": STATUS_LABELS[status],
            }
        )
    return sorted(rows, key=lambda r: str(r["name"]).lower())


def summary(g: nx.DiGraph, n: Hashable, figs: dict | None = None) -> dict:
    """What the structure page shows for `n` in `g`; `figs` = figures.all_figures(g) if
    already computed."""
    figs = figs or figures.all_figures(g)
    rows = partners(g, n)
    cent = next((r for r in figs["centrality"]["structures"] if r["id"] == n), None)
    ranked = figs["centrality"]["structures"]
    rank = next((i for i, r in enumerate(ranked, start=1) if r["id"] == n), None)
    frag = next((r for r in figs["fragility"]["structures"] if r["id"] == n), None)
    # From the figures given (a closed year's are those stored at close), not recomputed.
    community = next(
        (c["number"] for c in figs["communities"]["communities"] if n in c["members"]), None
    )
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_LABELS}
    observable = counts["mutual"] + counts["out"] + counts["in"]
    practices: dict[str, int] = {}
    thematiques: dict[str, int] = {}
    for r in rows:
        for p in r["practices"]:
            practices[p["code"]] = practices.get(p["code"], 0) + p["count"]
        for t in r["thematiques"]:
            thematiques[t["code"]] = thematiques.get(t["code"], 0) + t["count"]
    a = g.nodes[n]
    return {
        "id": n,
        "name": a.get("name", str(n)),
        "type_label": a.get("type_label", ""),
        "commune": a.get("commune", ""),
        "answered": bool(a.get("answered")),
        "invited": a.get("invited", 0),
        "responded": a.get("responded", 0),
        "link_carriers": a.get("link_carriers", 0),
        "partners": rows,
        "degree": len(rows),
        "names_given": sum(1 for r in rows if r["names_it"]),
        "names_received": sum(1 for r in rows if r["named_by"]),
        "status_counts": counts,
        # 0 % is a figure (nobody cites it back); only no observable link is "n. d.".
        "reciprocity": counts["mutual"] / observable if observable else None,
        "fragile_links": sum(1 for r in rows if r["fragile"]),
        "fragile_share": frag["share"] if frag else None,
        "hangs_on_one_person": bool(rows) and a.get("link_carriers") == 1,
        "betweenness": cent["betweenness"] if cent else 0.0,
        "rank": rank,
        "structures": g.number_of_nodes(),
        "community": community,
        "practices": _labelled(practices, vocab.PRACTICES),
        "thematiques": _labelled(thematiques, vocab.THEMATIQUES),
    }


def evolution(comparison: dict, n: Hashable) -> dict:
    """The part of reports.compare's result that concerns `n`: lists of partner rows."""

    def mine(rows: list[dict]) -> list[dict]:
        out = []
        for r in rows:
            if n in (r["a"], r["b"]):
                other = r["b"] if r["a"] == n else r["a"]
                name = r["b_name"] if r["a"] == n else r["a_name"]
                out.append({**r, "partner": other, "partner_name": name})
        return sorted(out, key=lambda r: str(r["partner_name"]).lower())

    keys = ("new", "lost", "kept", "strengthened", "weakened", "newly_observed",
            "not_observed", "survived_carrier_leaving", "lost_with_carriers")  # fmt: skip
    return {k: mine(comparison[k]) for k in keys}


def ego(g: nx.DiGraph, n: Hashable) -> nx.DiGraph:
    """`n`, its partners and the links among them (a copy)."""
    keep = {n} | partner_ids(g, n)
    return g.subgraph(keep).copy()
