"""What the département may read: structures are named, professionals never.

The « < 3 » rule: a count of professionals between 1 and 2 could single someone out (« the
only CARSAT respondent cited turn-over »), so it is printed as « < 3 », and any rate or
figure computed from such a count is withheld. Zero is printed: it describes nobody.
Counts of structures and of links are not counts of people and are printed as they are.

The report is built only from the structure-level graph (reports.graph puts no name, e-mail
or id of a professional in it), from aggregated obstacle counts and from campaign dates:
free comments and contact names are never read.
"""

from __future__ import annotations

from survey import french

THRESHOLD = 3
SMALL = "<\u00a03"  # « < 3 », the no-break space keeps it on one line


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
