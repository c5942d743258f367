"""The partnership map drawn as SVG on the server, and the positions it uses.

The SVG is complete without JavaScript: every structure is a focusable link (or a focusable
group) with a <title>, so the map can be read by keyboard and screen reader, and
app/static/map.js only adds zoom, pan, highlighting and the side panel on top of it.

Visual cues, none carried by colour alone:
- family of structure type: colour AND shape (see FAMILIES), repeated in the <title>;
- size: number of partners (degree);
- hollow shape: the structure did not answer (its links are only known from the others);
- dashed link: carried by a single professional (fragile);
- arrow: the link is named from one side only (arrow towards the structure named);
- thicker link: more professionals carry it.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import networkx as nx
from markupsafe import Markup, escape
from sqlmodel import Session, col, select

from reports import cache, figures, layout
from survey.models import Campaign

Position = tuple[float, float]

SIZE = 1000  # user units of the drawing (positions in [0, 1]² are scaled to it)
MARGIN = 40  # room for labels at the border
LABELS_MAX = 10  # at most this many structures get a permanent label (the most connected)
HISTORY = 3  # how many earlier campaigns the stable layout starts from


@dataclass(frozen=True)
class Family:
    code: str
    label: str
    colour: str  # Okabe-Ito based, each ≥ 3:1 against white
    shape: str
    types: frozenset[str]


FAMILIES: tuple[Family, ...] = (
    Family("protection", "Caisses de protection sociale", "#0072b2", "circle",
           frozenset({"caf", "cpam", "carsat", "mutualite-sociale-agricole"})),
    Family("communes", "Communes, CCAS, accueil de proximité", "#007a5a", "square",
           frozenset({"ccas-cias", "communes", "france-service", "msap", "pimms-mediation",
                      "la-poste", "aidants-connect", "conseillers-numeriques",
                      "espaces-publics-numeriques", "fcsf", "mjc"})),
    Family("public", "Département et services de l'État", "#7b4fa0", "diamond",
           frozenset({"departements", "services-departement", "maisons-des-solidarites",
                      "maison-departementale-de-lautonomie", "ase",
                      "delegataire-conseil-departemental", "services-etat", "regions", "pjj",
                      "spip", "education-nationale", "points-justice"})),
    Family("emploi", "Emploi, insertion, formation", "#c4500a", "triangle",
           frozenset({"mission-locale", "france-travail", "cap-emploi-reseau-cheops", "plie",
                      "maisons-de-l-emploi", "afpa", "chambres-consulaires", "ei", "aci",
                      "etti", "eiti", "ai", "geiq", "epide", "ecoles-de-la-deuxieme-chance",
                      "reseau-app", "reseau-bge", "cnam", "agefiph", "coorace", "inae",
                      "alliance-villes-emploi", "reseau-information-jeunesse",
                      "campus-connecte", "chantier-ecole", "collectif-emploi", "crepi",
                      "etcld", "mobin", "wimoov", "creches-avip"})),
    Family("logement", "Hébergement et logement", "#8c5a14", "hexagon",
           frozenset({"siao", "chrs", "chu", "cada", "huda", "cph", "bailleur-social",
                      "residences-fjt", "action-logement", "cava"})),
    Family("associations", "Associations et solidarité", "#b8336a", "pentagon",
           frozenset({"association", "udaf", "unaf", "cidff", "restos-du-coeur",
                      "secours-populaire", "croix-rouge", "emmaus", "banques-alimentaires",
                      "cresus", "points-conseil-budget",
                      "federation-des-acteurs-de-la-solidarite", "ressourceries"})),
    Family("sante", "Santé et handicap", "#3d3d3d", "cross",
           frozenset({"sante", "mdph", "cmp", "cms", "csapa", "caarud", "esat", "ea", "eatt",
                      "unea"})),
    Family("autre", "Autres", "#6e6e6e", "triangle-down", frozenset({"autre"})),
)  # fmt: skip
_BY_TYPE = {t: f for f in FAMILIES for t in f.types}
OTHER = FAMILIES[-1]


def family_of(org_type: str | None) -> Family:
    return _BY_TYPE.get(org_type or "autre", OTHER)


# --- positions -----------------------------------------------------------------------------


class _Memo:
    """A small thread-safe LRU of computed values (sync routes run in a thread pool). The
    value is computed outside the lock: two threads may compute it once each, both get a
    correct (deterministic) result."""

    def __init__(self, size: int = 64) -> None:
        self._values: OrderedDict[Hashable, dict] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: Hashable, compute: Callable[[], dict]) -> dict:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            if len(self._values) > self._size:
                self._values.popitem(last=False)
        return value


_by_structure = _Memo()  # layouts by graph fingerprint
_by_version = _Memo()  # layouts by (campaign, data version, previous year's layout)


def positions_digest(pos: dict | None) -> str:
    """A key for a set of positions (for caching what is drawn from them)."""
    return hashlib.sha256(
        repr(sorted((pos or {}).items(), key=lambda kv: str(kv[0]))).encode()
    ).hexdigest()


def _fingerprint(g: nx.DiGraph, previous: dict | None) -> str:
    h = hashlib.sha256()
    h.update(repr(sorted(g.nodes, key=str)).encode())
    h.update(repr([(x.a, x.b, x.carriers) for x in figures.links(g)]).encode())
    h.update(positions_digest(previous).encode())
    return h.hexdigest()


def cached_positions(g: nx.DiGraph, previous: dict | None = None) -> dict[Hashable, Position]:
    """layout.positions, memoised on the graph's structure (the layout is deterministic, so
    several processes computing it independently agree)."""
    return _by_structure.get(_fingerprint(g, previous), lambda: layout.positions(g, previous))


def _year_positions(
    session: Session,
    campaign: Campaign,
    previous: dict | None,
    g: nx.DiGraph | None = None,
    version: str | None = None,
) -> dict:
    """`version` (the campaign's data version, reports.cache) may be given when the caller
    just read it."""
    version = version or cache.data_version(session, campaign)

    def compute() -> dict:
        graph = g if g is not None else cache.entry(session, campaign, version=version).graph
        return cached_positions(graph, previous)

    return _by_version.get((campaign.id, version, positions_digest(previous)), compute)


def earlier_campaigns(session: Session, campaign: Campaign) -> list[Campaign]:
    """The campaigns whose layouts the map of `campaign` starts from, latest first."""
    return list(
        session.exec(
            select(Campaign)
            .where(Campaign.territory_id == campaign.territory_id, Campaign.year < campaign.year)
            .order_by(col(Campaign.year).desc())
            .limit(HISTORY)
        ).all()
    )


def map_positions(
    session: Session, campaign: Campaign, g: nx.DiGraph | None = None, version: str | None = None
) -> dict[Hashable, Position]:
    """Positions of the structures of `campaign`, stable across years: the layout of the
    earlier campaigns (up to HISTORY of them, oldest first) is computed first and each year
    starts from the previous one, so a structure that stays keeps its place.

    Always computed on the unfiltered graph (`g` if given must be unfiltered): a filter
    hides links and structures but never moves them. Memoised per campaign data version,
    so earlier years' graphs are only rebuilt when their answers changed. `version` is
    `campaign`'s data version when the caller has just read it (reports.cache)."""
    previous: dict | None = None
    for c in reversed(earlier_campaigns(session, campaign)):
        previous = _year_positions(session, c, previous)
    return _year_positions(session, campaign, previous, g, version)


# --- drawing -------------------------------------------------------------------------------


def spread(pos: dict[Hashable, Position], power: float = 0.5) -> dict[Hashable, Position]:
    """Display transform of layout positions: distances from the centre are raised to
    `power` (< 1 opens up the dense core and pulls far outliers in), then each axis is
    stretched to fill [0, 1]. Monotonic, so neighbourhoods and year-to-year stability are
    kept; only the drawing uses it (the API serves the layout's own positions)."""
    if len(pos) < 2:
        return {n: (0.5, 0.5) for n in pos}
    xs = sorted(p[0] for p in pos.values())
    ys = sorted(p[1] for p in pos.values())
    cx, cy = xs[len(xs) // 2], ys[len(ys) // 2]
    dist = {n: math.hypot(x - cx, y - cy) for n, (x, y) in pos.items()}
    top = max(dist.values()) or 1.0
    moved = {}
    for n, (x, y) in pos.items():
        d = dist[n]
        k = (top * (d / top) ** power) / d if d else 0.0
        moved[n] = (cx + (x - cx) * k, cy + (y - cy) * k)
    lo_x, hi_x = min(p[0] for p in moved.values()), max(p[0] for p in moved.values())
    lo_y, hi_y = min(p[1] for p in moved.values()), max(p[1] for p in moved.values())
    return {
        n: ((x - lo_x) / ((hi_x - lo_x) or 1.0), (y - lo_y) / ((hi_y - lo_y) or 1.0))
        for n, (x, y) in moved.items()
    }


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """SVG path data of `shape` centred on (x, y), of about the area of a circle of radius r."""
    if shape == "circle":
        return (
            f"M{_fmt(x - r)},{_fmt(y)}a{_fmt(r)},{_fmt(r)} 0 1,0 {_fmt(2 * r)},0"
            f"a{_fmt(r)},{_fmt(r)} 0 1,0 {_fmt(-2 * r)},0z"
        )
    if shape == "square":
        s = r * 0.89
        return f"M{_fmt(x - s)},{_fmt(y - s)}h{_fmt(2 * s)}v{_fmt(2 * s)}h{_fmt(-2 * s)}z"
    if shape == "cross":
        a, b = r * 1.05, r * 0.38
        pts = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b),
               (-a, b), (-a, -b), (-b, -b)]  # fmt: skip
        return "M" + "L".join(f"{_fmt(x + px)},{_fmt(y + py)}" for px, py in pts) + "z"
    sides, radius, turn = {
        "diamond": (4, r * 1.25, -90),
        "triangle": (3, r * 1.35, -90),
        "triangle-down": (3, r * 1.35, 90),
        "hexagon": (6, r * 1.1, 0),
        "pentagon": (5, r * 1.15, -90),
    }[shape]
    pts = [
        (
            x + radius * math.cos(math.radians(turn + 360 * i / sides)),
            y + radius * math.sin(math.radians(turn + 360 * i / sides)),
        )
        for i in range(sides)
    ]
    return "M" + "L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in pts) + "z"


def swatch(family: Family, hollow: bool = False, size: int = 18) -> Markup:
    """A small standalone SVG of a family's mark, for legends (decorative)."""
    r = size / 2 - 3
    c = size / 2
    fill = "#fff" if hollow else family.colour
    return Markup(
        f'<svg class="swatch" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'aria-hidden="true" focusable="false"><path d="{shape_path(family.shape, c, c, r)}" '
        f'fill="{fill}" stroke="{family.colour}" stroke-width="2"/></svg>'
    )


def line_swatch(kind: str) -> Markup:
    """Legend mark of a link: "plain", "fragile" (dashed) or "one-sided" (arrow)."""
    dash = ' stroke-dasharray="5 4"' if kind == "fragile" else ""
    arrow = '<path d="M30,7 L22,2.5 L22,11.5z" fill="#3b4350"/>' if kind == "one-sided" else ""
    end = 22 if kind == "one-sided" else 32
    return Markup(
        f'<svg class="swatch" width="34" height="14" viewBox="0 0 34 14" aria-hidden="true" '
        f'focusable="false"><line x1="2" y1="7" x2="{end}" y2="7" stroke="#3b4350" '
        f'stroke-width="2"{dash}/>{arrow}</svg>'
    )


@dataclass(frozen=True)
class MapOptions:
    """How a map is drawn. `href(node)` gives the link of a structure (None: a focusable
    group instead); `id_prefix` keeps ids unique when a page holds several maps."""

    href: Callable[[Hashable], str] | None = None
    id_prefix: str = "carte"
    labels_max: int = LABELS_MAX
    highlight: frozenset = frozenset()
    title: str = "Carte des partenariats"


def _radius(degree: int, top: int) -> float:
    return 6 + 14 * math.sqrt(degree / top) if top else 7.0


def _short(name: str, limit: int = 30) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


LABEL_FONT = 15  # user units; keep in step with .map-svg .label in carte.css
_CHAR_WIDTH = 0.58 * LABEL_FONT  # average width of a bold sans-serif character


def _place_labels(
    candidates: list[Hashable],
    limit: int,
    xy: dict[Hashable, Position],
    radius: dict[Hashable, float],
    texts: dict[Hashable, str],
) -> dict[Hashable, tuple[float, float, str]]:
    """Permanent labels for up to `limit` of `candidates` (most connected first): each tries
    below, above, right and left of its node and is dropped when all four overlap a label
    already placed or a labelled node. Returns {node: (x, y, text-anchor)}."""
    # The candidates' own marks are obstacles, so a label never covers a large structure.
    boxes = [
        (xy[n][0] - radius[n], xy[n][1] - radius[n], xy[n][0] + radius[n], xy[n][1] + radius[n])
        for n in candidates
    ]
    out: dict[Hashable, tuple[float, float, str]] = {}

    def free(box: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = box
        return all(x1 < a0 or x0 > a1 or y1 < b0 or y0 > b1 for a0, b0, a1, b1 in boxes)

    for n in candidates:
        if len(out) >= limit:
            break
        x, y = xy[n]
        r = radius[n]
        w = len(texts[n]) * _CHAR_WIDTH
        h = LABEL_FONT
        options = [
            (x, y + r + h, "middle", (x - w / 2, y + r + 2, x + w / 2, y + r + h + 3)),
            (x, y - r - 5, "middle", (x - w / 2, y - r - h - 4, x + w / 2, y - r - 2)),
            (x + r + 4, y + h / 3, "start", (x + r + 3, y - h / 2, x + r + 4 + w, y + h / 2)),
            (x - r - 4, y + h / 3, "end", (x - r - 4 - w, y - h / 2, x - r - 3, y + h / 2)),
        ]
        for lx, ly, anchor, box in options:
            if free(box):
                out[n] = (lx, ly, anchor)
                boxes.append(box)
                break
    return out


def _node_title(a: dict, degree: int, fam: Family) -> str:
    answer = "a répondu" if a.get("answered") else "n'a pas répondu"
    partners = f"{degree} partenaire" + ("s" if degree != 1 else "")
    return f"{a.get('name', '')} — {a.get('type_label') or fam.label} — {partners}, {answer}"


def render(
    g: nx.DiGraph,
    pos: dict[Hashable, Position],
    options: MapOptions = MapOptions(),  # noqa: B008 - frozen dataclass, never mutated
    stats: dict[Hashable, dict] | None = None,
) -> Markup:
    """The map of `g` as an inline <svg>. Nodes missing from `pos` are not drawn.

    `stats` adds data-* attributes per node (e.g. betweenness) for the side panel."""
    p = options.id_prefix
    nodes = [n for n in g.nodes if n in pos]
    partners = {n: len(set(g.successors(n)) | set(g.predecessors(n))) for n in nodes}
    top = max(partners.values(), default=0)
    radius = {n: _radius(partners[n], top) for n in nodes}
    span = SIZE - 2 * MARGIN
    shown = spread(pos)  # on every position given, so a filter never moves a structure
    xy = {n: (MARGIN + shown[n][0] * span, MARGIN + shown[n][1] * span) for n in nodes}
    order = sorted(nodes, key=lambda n: (-partners[n], str(g.nodes[n].get("name", n)).lower()))
    placed = _place_labels(
        [n for n in order if partners[n] > 0][: options.labels_max * 2],
        options.labels_max,
        xy,
        radius,
        {n: _short(str(g.nodes[n].get("name", n))) for n in nodes},
    )
    labelled = set(placed)

    n_links = len(figures.links(g))
    # Many links: fainter lines, so structures stay readable; hovering brings them back.
    link_opacity = max(0.08, min(0.5, 150 / max(1, n_links)))
    # Zoom level from which map.js shows every label (room enough between structures).
    labels_zoom = max(2.5, math.sqrt(len(nodes)) / 3)
    out: list[str] = [
        f'<svg class="map-svg" id="{p}-svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'xmlns="http://www.w3.org/2000/svg" role="group" aria-label="{escape(options.title)}" '
        f'data-size="{SIZE}" data-labels-zoom="{labels_zoom:.1f}" '
        f'style="--lo:{link_opacity:.2f}">',
        f'<defs><marker id="{p}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,1L10,5L0,9z" fill="#5b6370"/></marker></defs>',
        f'<g class="map-viewport" id="{p}-viewport">',
        '<g class="links" aria-hidden="true">',
    ]
    for x in figures.links(g):
        if x.a not in xy or x.b not in xy:
            continue
        mutual = x.mutual
        src, dst = (x.a, x.b) if (x.ab or mutual) else (x.b, x.a)
        (x1, y1), (x2, y2) = xy[src], xy[dst]
        classes = ["link"]
        if x.carriers == 1:
            classes.append("fragile")
        if x.formal:
            classes.append("formal")
        marker = ""
        if not mutual:
            classes.append("one-sided")
            # Stop at the border of the named structure so the arrow head stays visible.
            d = math.hypot(x2 - x1, y2 - y1) or 1.0
            k = (radius[dst] + 2) / d
            x2, y2 = x2 - (x2 - x1) * k, y2 - (y2 - y1) * k
            marker = f' marker-end="url(#{p}-arrow)"'
        width = 1 + 0.6 * min(x.carriers - 1, 5)
        out.append(
            f'<line class="{" ".join(classes)}" x1="{_fmt(x1)}" y1="{_fmt(y1)}" '
            f'x2="{_fmt(x2)}" y2="{_fmt(y2)}" stroke-width="{_fmt(width)}" '
            f'data-s="{escape(str(src))}" data-t="{escape(str(dst))}" '
            f'data-mutual="{int(mutual)}" data-carriers="{x.carriers}"{marker}/>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for n in order:
        a = g.nodes[n]
        fam = family_of(a.get("type"))
        x, y = xy[n]
        r = radius[n]
        classes = ["node", f"fam-{fam.code}"]
        classes.append("answered" if a.get("answered") else "silent")
        if n in labelled:
            classes.append("labelled")
        if n in options.highlight:
            classes.append("highlight")
        data = {
            "id": n,
            "name": a.get("name", ""),
            "type": a.get("type_label") or "",
            "family": fam.label,
            "degree": partners[n],
            "out": g.out_degree(n),
            "in": g.in_degree(n),
            "answered": int(bool(a.get("answered"))),
            "invited": a.get("invited", 0),
            "responded": a.get("responded", 0),
            **(stats or {}).get(n, {}),
        }
        attrs = " ".join(f'data-{k}="{escape(str(v))}"' for k, v in data.items())
        title = escape(_node_title(a, partners[n], fam))
        if options.href:
            open_tag = f'<a class="{" ".join(classes)}" href="{escape(options.href(n))}" {attrs}>'
            close_tag = "</a>"
        else:
            open_tag = f'<g class="{" ".join(classes)}" tabindex="0" {attrs}>'
            close_tag = "</g>"
        label = escape(_short(str(a.get("name", n))))
        lx, ly, anchor = placed.get(n, (x, y + r + 15, "middle"))
        out.append(
            f"{open_tag}<title>{title}</title>"
            f'<path class="mark" d="{shape_path(fam.shape, x, y, r)}" '
            f'style="--c:{fam.colour}"/>'
            f'<text class="label" x="{_fmt(lx)}" y="{_fmt(ly)}" text-anchor="{anchor}">'
            f"{label}</text>"
            f"{close_tag}"
        )
    out.append("</g></g></svg>")
    return Markup("".join(out))


def families_present(g: nx.DiGraph) -> list[Family]:
    """The families of the structures in `g`, in legend order."""
    present = {family_of(a.get("type")).code for _, a in g.nodes(data=True)}
    return [f for f in FAMILIES if f.code in present]
