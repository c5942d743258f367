"""The partnership graph in the workspace: map, table view, figures, structure page,
year over year, exports. Thin: parse the query, call reports/, render.

Every page reads with ViewerScope (coordinators and viewers of the territory; 404 for
others). Nothing here shows a professional's name: the graph is at structure level.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlencode

import networkx as nx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app.deps import Scope, SessionDep, ViewerScope, commit_audited, or_404, workspace_url
from app.graph_view import (
    NATURE_FILTERS,
    GraphView,
    bad_request,
    campaign_or_404,
    check_zone,
    chosen_campaign,
    coordination_figures,
    default_campaign,
    evolution_pair,
    filter_labels,
    filter_query,
    graph_view,
    instance_choices,
    instance_members,
    parse_filter,
    parse_id,
    parse_instance,
    parse_year,
    quality_rows,
    zone_choices,
)
from app.templating import templates
from reports import (
    backbone,
    cache,
    exports,
    figures,
    groups,
    groupsvg,
    layout,
    linechart,
    privacy,
    svg,
    trends,
)
from reports import structure as structure_view
from reports.graph import GraphFilter
from survey import campaigns, directory, vocab

router = APIRouter(include_in_schema=False)

EXPORT_FORMATS = {
    "graphml": ("GraphML (Gephi, yEd)", "application/graphml+xml"),
    "gexf": ("GEXF (Gephi)", "application/xml"),
    "csv": ("CSV pour Excel : structures et liens (archive zip)", "application/zip"),
    "json": ("JSON nœuds-liens", "application/json"),
}


def node_stats(view: GraphView) -> dict:
    """Per-structure figures for the side panel (data-* attributes on each node)."""
    frag = {r["id"]: r["fragile_links"] for r in view.figures["fragility"]["structures"]}
    return {n: {"fragile": frag.get(n, 0)} for n in view.graph.nodes}


def types_present(session: Session, territory_id: int) -> list[tuple[str, str, vocab.Family]]:
    """(code, label, family) of the structure types used in the territory, by family."""
    codes = directory.types_in_use(session, territory_id)
    rows = [(c, vocab.org_type_label(c), vocab.family_of(c)) for c in codes]
    order = {f.code: i for i, f in enumerate(vocab.FAMILIES)}
    return sorted(rows, key=lambda r: (order[r[2].code], r[1].lower()))


def _audience(scope: Scope) -> str:
    """Coordinators read exact counts; a viewer reads the « < 3 » rule (reports.privacy)."""
    return privacy.audience_of(scope.can_write)


def _context(request: Request, session: Session, scope: Scope, view: GraphView, **extra) -> dict:
    query = filter_query(view.flt)
    figs = privacy.suppress_figures(view.figures, _audience(scope))
    return {
        "scope": scope,
        "section": "carte",
        "view": view,
        "campaign": view.campaign,
        "campaigns": campaigns.list_campaigns(session, scope.territory.id),
        "flt": view.flt,
        "filter_labels": filter_labels(view.flt),
        "filter_qs": urlencode(query),
        "year_qs": urlencode([("annee", view.campaign.year), *query]),
        "types": types_present(session, scope.territory.id),
        "nature_filters": NATURE_FILTERS,
        "zones": zone_choices(session, view.campaign),
        "headline": figs["headline"],
        "size": figs["size"],
        "participation": figs["participation"],
        **extra,
    }


def _no_campaign(request: Request, scope: Scope) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "graph/empty.html", {"scope": scope, "section": "carte"}
    )


# --- pages ---------------------------------------------------------------------------------


# The map's levels (?niveau=): every structure, or one node per family or per zone.
LEVELS = {"structure": "Par structure", "famille": "Par famille", "zone": "Par zone"}
ALL_LINKS = "tous"  # ?liens=tous: every link on a map that would show its backbone


def parse_level(raw: str | None) -> str:
    """The map's level: "structure" when absent; 400 in French on an unknown value."""
    level = (raw or "").strip() or "structure"
    if level not in LEVELS:
        raise bad_request(
            f"Niveau de carte inconnu : « {level[:40]} » (valeurs possibles : "
            + ", ".join(LEVELS)
            + ")."
        )
    return level


def parse_links(raw: str | None) -> bool:
    """True for ?liens=tous (draw every link); 400 in French on another value."""
    value = (raw or "").strip()
    if value and value != ALL_LINKS:
        raise bad_request(
            f"Valeur inconnue pour liens : « {value[:40]} » (valeur possible : {ALL_LINKS})."
        )
    return value == ALL_LINKS


def _pairs(view: GraphView) -> list[figures.Link]:
    return view.entry.derived("links", figures.links)


def _zone_map(view: GraphView) -> groups.GroupMap | None:
    """The graph by zone (None: no structure shown is in a zone), cached with the graph."""
    return view.entry.derived("groups-zone", lambda g: groups.by_zone(g, _pairs(view)))


def _group_map(view: GraphView, level: str) -> groups.GroupMap | None:
    if level == "zone":
        return _zone_map(view)
    return view.entry.derived("groups-famille", lambda g: groups.by_family(g, _pairs(view)))


def group_hrefs(view: GraphView, gm: groups.GroupMap, base: str) -> dict[str, str]:
    """Per group key, the structure map filtered on it, keeping the other filters: a family
    by its structure types present in the graph shown, a zone by name (« Hors zone »: none)."""
    flt = view.flt
    others = [(k, v) for k, v in filter_query(flt) if k not in ("type", "zone")]
    year = ("annee", str(view.campaign.year))
    out = {}
    if gm.level == "famille":
        types: dict[str, set[str]] = {}
        for _, a in view.graph.nodes(data=True):
            t = a.get("type")
            if t in vocab.ORG_TYPES:  # a structure without a known type has no filter
                types.setdefault(vocab.family_of(t).code, set()).add(str(t))
        zone = [("zone", flt.zone)] if flt.zone else []
        for gr in gm.groups:
            if gr.key in types:
                chosen = [("type", t) for t in sorted(types[gr.key])]
                out[gr.key] = f"{base}/carte?" + urlencode([year, *chosen, *others, *zone])
    else:
        kept_types = [("type", t) for t in sorted(flt.org_types)]
        for gr in gm.groups:
            if gr.key != groups.NO_ZONE:
                query = [year, *kept_types, *others, ("zone", gr.key)]
                out[gr.key] = f"{base}/carte?" + urlencode(query)
    return out


def _level_choices(view: GraphView) -> list[tuple[str, str]]:
    """The levels offered in the form: by zone only when structures shown are in zones."""
    return [(k, v) for k, v in LEVELS.items() if k != "zone" or _zone_map(view) is not None]


def _map_query(view: GraphView, instance_id: int | None, **extra: str) -> str:
    query = [("annee", str(view.campaign.year)), *filter_query(view.flt)]
    if instance_id:
        query.append(("instance", str(instance_id)))
    return urlencode([*query, *extra.items()])


@router.get("/t/{code}/carte", response_class=HTMLResponse)
def map_page(request: Request, scope: ViewerScope, session: SessionDep):
    flt = parse_filter(request)
    level = parse_level(request.query_params.get("niveau"))
    all_links = parse_links(request.query_params.get("liens"))
    instance_id = parse_instance(request.query_params.get("instance"))
    campaign = chosen_campaign(session, scope, request.query_params.get("annee"))
    if campaign is None:
        return _no_campaign(request, scope)
    view = graph_view(session, campaign, flt, everything=False)
    if level != "structure":
        return group_page(request, session, scope, view, level, instance_id)
    search = (request.query_params.get("recherche") or "").strip()[:100]
    found = []
    needle = directory.normalize_name(search)
    if needle:
        # The names' fold (accents, case, « ’ » or « ' », hyphens), as map.js searches.
        folded = {
            n: directory.normalize_name(str(a["name"])) for n, a in view.graph.nodes(data=True)
        }
        found = sorted((n for n, name in folded.items() if needle in name), key=folded.__getitem__)
    instances = instance_choices(session, campaign)
    members = instance_members(session, campaign, instance_id) if instance_id else frozenset()
    marked = frozenset(found) | members
    base = workspace_url(scope)
    year = campaign.year

    # A large territory's map draws its backbone: decided on the whole graph, so that a
    # filter never switches it on or off; computed on the graph shown.
    whole = view.entry if not view.filtered else cache.entry(session, campaign)
    large = whole.graph.number_of_nodes() >= backbone.BACKBONE_FROM
    bb: backbone.Backbone | None = None
    named: tuple = ()
    if large and not all_links:
        bb = view.entry.derived("backbone", lambda g: backbone.backbone(g, _pairs(view)))
        named = view.entry.derived("backbone-named", lambda g: tuple(backbone.named(g, bb)))

    def draw(g: nx.DiGraph) -> Markup:
        return svg.render(
            g,
            view.positions,
            svg.MapOptions(
                href=lambda n: f"{base}/structures/{n}?annee={year}",
                highlight=marked,
                title=(
                    f"Carte des partenariats {year} : {g.number_of_nodes()} structures, "
                    f"{view.figures['size']['links']} liens"
                    + (f", dont {len(bb.kept)} dessinés" if bb and bb.hidden else "")
                ),
                people_counts=scope.can_write,
                links=frozenset(bb.keys()) if bb else None,
                named=named,
            ),
            stats=node_stats(view),
        )

    # The drawing depends on the graph (the entry), the positions (which also follow the
    # earlier years' data), the address and whether it is the backbone; searches and
    # instances highlight, so they are drawn afresh.
    map_svg = (
        draw(view.graph)
        if marked
        else view.entry.derived(
            (
                "svg",
                base,
                scope.can_write,
                layout.positions_digest(view.positions),
                "ossature" if bb else "tous",
            ),
            draw,
        )
    )
    names = sorted(str(a["name"]) for _, a in view.graph.nodes(data=True))
    highlighted = None
    if instance_id:
        shown = sorted(
            (n for n in members if n in view.graph),
            key=lambda n: str(view.graph.nodes[n]["name"]).lower(),
        )
        highlighted = {
            "id": instance_id,
            "name": dict(instances).get(instance_id, f"n° {instance_id}"),
            "members": [(n, view.graph.nodes[n]["name"]) for n in shown],
            "hidden": len(members) - len(shown),
        }
    backbone_view = None
    if large:
        backbone_view = {
            "sentence": bb.sentence() if bb else None,
            "all_href": f"{base}/carte?" + _map_query(view, instance_id, liens=ALL_LINKS),
            "backbone_href": f"{base}/carte?" + _map_query(view, instance_id),
        }
    return templates.TemplateResponse(
        request,
        "graph/map.html",
        _context(
            request,
            session,
            scope,
            view,
            map_svg=map_svg,
            families=svg.families_present(view.graph),
            swatch=svg.swatch,
            line_swatch=svg.line_swatch,
            search=search,
            found=[(n, view.graph.nodes[n]["name"]) for n in found],
            names=names,
            instances=instances,
            instance_id=instance_id,
            highlighted=highlighted,
            page="carte",
            level="structure",
            levels=_level_choices(view),
            backbone=backbone_view,
            level_hidden={"liens": ALL_LINKS} if large and all_links else {},
        ),
    )


def group_page(
    request: Request,
    session: Session,
    scope: Scope,
    view: GraphView,
    level: str,
    instance_id: int | None,
) -> HTMLResponse:
    """The map by family or by zone of the graph shown (filters applied), its tables."""
    base = workspace_url(scope)
    gm = _group_map(view, level)
    ctx: dict = {
        "page": "carte",
        "level": level,
        "levels": _level_choices(view),
        "level_hidden": {},
        "instances": instance_choices(session, view.campaign),
        "instance_id": instance_id,
        "structure_href": f"{base}/carte?" + _map_query(view, instance_id),
        "gm": gm,
    }
    if gm is not None:
        hrefs = group_hrefs(view, gm, base)
        people = scope.can_write
        what = "par famille de structures" if level == "famille" else "par zone"
        title = (
            f"Carte des partenariats {view.campaign.year} {what} : "
            f"{len(gm.groups)} groupes, {gm.links} liens"
        )

        def draw(_: nx.DiGraph) -> Markup:
            return groupsvg.render(
                gm, groups.group_positions(gm), title, people, href=lambda gr: hrefs.get(gr.key)
            )

        ctx.update(
            group_svg=view.entry.derived(("group-svg", level, base, people), draw),
            group_rows=[
                groupsvg.group_figures(gr, people) | {"href": hrefs.get(gr.key)} for gr in gm.groups
            ],
            matrix=gm.matrix(),
            tie_rows=groupsvg.tie_rows(gm),
        )
    return templates.TemplateResponse(
        request, "graph/map.html", _context(request, session, scope, view, **ctx)
    )


TABLE_PAGE_SIZE = 200  # links per page of the table view
TABLE_SORTS = {
    "structure": "structure puis partenaire (A → Z)",
    "porteurs": "nombre de professionnel·les qui les portent (les plus portés d'abord)",
}


def table_order(g: nx.DiGraph) -> dict[str, list]:
    """The links of `g` (figures.links) in each TABLE_SORTS order, computed once per cached
    graph; the rows themselves are only built for the page shown (`table_row`)."""
    name = {n: str(a["name"]).lower() for n, a in g.nodes(data=True)}

    def ends(x) -> tuple:
        return (x.a, x.b) if x.ab else (x.b, x.a)

    by_name = sorted(figures.links(g), key=lambda x: tuple(name[n] for n in ends(x)))
    return {
        "structure": by_name,
        "porteurs": sorted(by_name, key=lambda x: -int(x.carriers)),  # stable: A → Z within
    }


def table_row(g: nx.DiGraph, x) -> dict:
    """One line of the links table: the pair `x` (figures.links), citing structure first."""
    ties = [t for t in (x.ab, x.ba) if t]
    freqs: dict[str, int] = {}
    for t in ties:
        for c, n in (t.get("frequencies") or {}).items():
            freqs[c] = freqs.get(c, 0) + n
    natures = {c: sum(t.get(c, 0) for t in ties) for c in vocab.NATURES}
    both_answered = g.nodes[x.a].get("answered") and g.nodes[x.b].get("answered")
    src, dst = (x.a, x.b) if x.ab else (x.b, x.a)
    return {
        "a": src,
        "b": dst,
        "a_name": g.nodes[src]["name"],
        "b_name": g.nodes[dst]["name"],
        "carriers": x.carriers,
        "natures": natures,
        "formal": x.formal,
        "frequencies": [(vocab.FREQUENCIES[c], n) for c, n in freqs.items() if n],
        "mutual": x.mutual,
        "one_sided": not x.mutual and both_answered,
        "undetermined": not x.mutual and not both_answered,
        "fragile": x.carriers == 1,
    }


def parse_page(raw: str | None) -> int:
    """1 when absent; 400 in French when not a page number."""
    if raw is None or raw.strip() == "":
        return 1
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) < 1:
        raise bad_request(f"Le numéro de page « {raw[:20]} » n'est pas valide.")
    return int(raw)


@router.get("/t/{code}/carte/tableau", response_class=HTMLResponse)
def table_page(request: Request, scope: ViewerScope, session: SessionDep):
    """Structures, then the links between them, TABLE_PAGE_SIZE links a page (a large
    département has over 10,000: one page of them weighed 3.7 MB). The structures table
    is on the first page only."""
    flt = parse_filter(request)
    sort = request.query_params.get("tri") or "structure"
    if sort not in TABLE_SORTS:
        raise bad_request(
            f"Tri inconnu : « {sort[:40]} » (valeurs possibles : {', '.join(TABLE_SORTS)})."
        )
    page = parse_page(request.query_params.get("page"))
    campaign = chosen_campaign(session, scope, request.query_params.get("annee"))
    if campaign is None:
        return _no_campaign(request, scope)
    view = graph_view(session, campaign, flt, everything=False)
    g = view.graph
    all_links = view.entry.derived("table_order", table_order)[sort]
    total = len(all_links)
    pages = max(1, -(-total // TABLE_PAGE_SIZE))
    if page > pages:
        raise HTTPException(
            status_code=404,
            detail=f"La page {page} n'existe pas : les liens tiennent en {pages} page"
            + ("s." if pages > 1 else "."),
        )
    first = (page - 1) * TABLE_PAGE_SIZE
    audience = _audience(scope)
    links = [
        privacy.suppress_table_row(table_row(g, x), audience)
        for x in all_links[first : first + TABLE_PAGE_SIZE]
    ]
    structures = []
    if page == 1:
        structures = [
            {
                **r,
                "degree": structure_view.partner_count(g, r["id"]),
                "out_degree": g.out_degree(r["id"]),
                "in_degree": g.in_degree(r["id"]),
            }
            for r in privacy.suppress_figures(view.figures, audience)["participation"]["structures"]
        ]
    query = [("annee", str(campaign.year)), *filter_query(flt)]
    if sort != "structure":
        query.append(("tri", sort))

    def page_href(n: int) -> str:
        return (
            f"{workspace_url(scope)}/carte/tableau?"
            + urlencode([*query, ("page", str(n))])
            + "#liens"
        )

    return templates.TemplateResponse(
        request,
        "graph/table.html",
        _context(
            request,
            session,
            scope,
            view,
            structures=structures,
            structures_count=g.number_of_nodes(),
            links=links,
            pager={
                "page": page,
                "pages": pages,
                "total": total,
                "first": first + 1 if links else 0,
                "last": first + len(links),
                "previous": page_href(page - 1) if page > 1 else None,
                "next": page_href(page + 1) if page < pages else None,
                "first_href": page_href(1),
            },
            sort=sort,
            sorts=TABLE_SORTS,
            page="tableau",
        ),
    )


@router.get("/t/{code}/figures", response_class=HTMLResponse)
def figures_default(request: Request, scope: ViewerScope, session: SessionDep):
    campaign = default_campaign(session, scope.territory.id)
    if campaign is None:
        return _no_campaign(request, scope)
    return figures_page(str(campaign.year), request, scope, session)


@router.get("/t/{code}/figures/{year}", response_class=HTMLResponse)
def figures_page(year: str, request: Request, scope: ViewerScope, session: SessionDep):
    y = parse_year(year, "année")
    if y is None:
        raise HTTPException(status_code=404)
    flt = parse_filter(request)
    campaign = campaign_or_404(session, scope.territory.id, y)
    view = graph_view(session, campaign, flt)
    obstacles = figures.obstacles(session, campaign, flt.org_types)
    figs = privacy.suppress_figures({**view.figures, "obstacles": obstacles}, _audience(scope))
    # « Qualité et cadres », the same figures as on the coordination page (all declarations).
    coordination = coordination_figures(session, scope, campaign)
    return templates.TemplateResponse(
        request,
        "graph/figures.html",
        _context(
            request,
            session,
            scope,
            view,
            f=figs,
            obstacles=figs["obstacles"],
            obstacle_codes=[c for c in vocab.OBSTACLES],
            coordination=coordination,
            quality=quality_rows(coordination["quality"]),
            page="figures",
        ),
    )


@router.get("/t/{code}/structures/{org_id}", response_class=HTMLResponse)
def structure_page(org_id: str, request: Request, scope: ViewerScope, session: SessionDep):
    oid = parse_id(org_id)
    org = or_404(
        directory.get_structure(session, scope.territory.id, oid), "Cette structure n'existe pas."
    )
    campaign = chosen_campaign(session, scope, request.query_params.get("annee"))
    base = workspace_url(scope)
    ctx: dict = {"scope": scope, "section": "carte", "org": org, "campaign": campaign}
    ctx["campaigns"] = campaigns.list_campaigns(session, scope.territory.id)
    if org.merged_into_id is not None:
        ctx["merged_into"] = directory.get_structure(
            session, scope.territory.id, org.merged_into_id
        )
    if campaign is not None:
        if org.merged_into_id is None:
            ctx["trend"] = structure_trend_view(session, scope, oid)
        e = cache.entry(session, campaign)
        g = e.graph
        # A closed year keeps a structure merged since its close: it is in that year's graph.
        if oid in g:
            figs = e.all_figures()
            audience = _audience(scope)
            ctx["s"] = privacy.suppress_structure(structure_view.summary(g, oid, figs), audience)
            previous = campaigns.previous_campaign(session, campaign)
            if previous is not None:
                version_before = cache.data_version(session, previous)
                cmp = cache.compare(
                    session, previous, campaign, versions=(version_before, e.version)
                )
                ctx["previous"] = previous
                ctx["evo"] = privacy.suppress_comparison(
                    structure_view.evolution(cmp, oid), audience
                )
                before = cache.entry(session, previous, version=version_before).graph
                ctx["degree_before"] = (
                    structure_view.partner_count(before, oid) if oid in before else None
                )
                ctx["answered_before"] = oid in before and bool(before.nodes[oid]["answered"])
            ego = structure_view.ego(g, oid)
            pos = layout.cached_positions(ego)
            ctx["ego_svg"] = svg.render(
                ego,
                pos,
                svg.MapOptions(
                    href=lambda n: f"{base}/structures/{n}?annee={campaign.year}",
                    id_prefix="ego",
                    label_font=svg.EGO_LABEL_FONT,
                    labels_max=12,
                    highlight=frozenset({oid}),
                    title=f"{org.name} et ses partenaires en {campaign.year}",
                    people_counts=scope.can_write,
                ),
            )
    return templates.TemplateResponse(request, "graph/structure.html", ctx)


def _trend_view(
    rows: list[dict], minimum: int, title: str, figs: tuple, series: tuple, chart_id: str, **size
) -> dict | None:
    """The chart and the table of trend `rows`, from `minimum` campaigns; None before."""
    if len(rows) < minimum:
        return None
    years = [r["year"] for r in rows]
    title = f"{title} de {years[0]} à {years[-1]}"
    return {
        "table": trends.table(rows, figs),
        "chart": linechart.line_chart(years, trends.series(rows, series), title, chart_id, **size),
        "title": title,
    }


def territory_trend_view(session: Session, scope: Scope, flt: GraphFilter) -> dict | None:
    """« Sur toutes les années »: the chart and the table of reports.trends, from three
    campaigns that are not drafts; None before."""
    return _trend_view(
        trends.territory_trend(session, scope.territory.id, flt, _audience(scope)),
        trends.MIN_TERRITORY_YEARS,
        "Chiffres clés",
        trends.TERRITORY_FIGURES,
        trends.TERRITORY_SERIES,
        "tendance",
    )


def structure_trend_view(session: Session, scope: Scope, org_id: int) -> dict | None:
    """A structure's own figures over the years, from two campaigns; None before."""
    return _trend_view(
        trends.structure_trend(session, scope.territory.id, org_id, _audience(scope)),
        trends.MIN_STRUCTURE_YEARS,
        "Ses partenaires",
        trends.STRUCTURE_FIGURES,
        trends.STRUCTURE_SERIES,
        "tendance-structure",
        width=640,
        height=240,
    )


@router.get("/t/{code}/evolution", response_class=HTMLResponse)
def evolution_page(request: Request, scope: ViewerScope, session: SessionDep):
    flt = parse_filter(request)
    ctx: dict = {
        "scope": scope,
        "section": "carte",
        "campaigns": campaigns.list_campaigns(session, scope.territory.id),
        "page": "evolution",
    }
    ctx.update(flt=flt, filter_labels=filter_labels(flt), filter_qs=urlencode(filter_query(flt)))
    pair = evolution_pair(session, scope, request)
    if pair is None:
        return templates.TemplateResponse(request, "graph/evolution.html", ctx)
    before, after = pair
    check_zone(session, after, flt)
    cmp = privacy.suppress_comparison(cache.compare(session, before, after, flt), _audience(scope))
    ctx.update(before=before, after=after, cmp=cmp)
    ctx["trend"] = territory_trend_view(session, scope, flt)
    ctx["types"] = types_present(session, scope.territory.id)
    ctx["nature_filters"] = NATURE_FILTERS
    ctx["campaign"] = after
    return templates.TemplateResponse(request, "graph/evolution.html", ctx)


@router.get("/t/{code}/exports", response_class=HTMLResponse)
def exports_page(request: Request, scope: ViewerScope, session: SessionDep):
    campaign = chosen_campaign(session, scope, request.query_params.get("annee"))
    return templates.TemplateResponse(
        request,
        "graph/exports.html",
        {
            "scope": scope,
            "section": "carte",
            "page": "exports",
            "campaign": campaign,
            "campaigns": campaigns.list_campaigns(session, scope.territory.id),
            "formats": EXPORT_FORMATS,
            "notice": exports.NOTICE,
        },
    )


@router.get("/t/{code}/exports/{year}/{fmt}")
def export_download(year: str, fmt: str, request: Request, scope: ViewerScope, session: SessionDep):
    y = parse_year(year, "année")
    if y is None or fmt not in EXPORT_FORMATS:
        raise HTTPException(status_code=404, detail="Ce format d'export n'existe pas.")
    flt = parse_filter(request)
    campaign = campaign_or_404(session, scope.territory.id, y)
    check_zone(session, campaign, flt)
    g = cache.graph(session, campaign, flt)
    name = f"carte-{scope.territory.code}-{y}"
    with tempfile.TemporaryDirectory(prefix="carte-export-") as tmp:
        target = Path(tmp) / (f"{name}.zip" if fmt == "csv" else f"{name}.{fmt}")
        (written,) = exports.export(g, fmt, target)
        body = written.read_bytes()
    commit_audited(session, scope, "graph.export", f"{scope.territory.code}/{y}", fmt)
    filename = target.name
    return Response(
        body,
        media_type=EXPORT_FORMATS[fmt][1],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
