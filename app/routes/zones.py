"""The zones of a territory: `/t/{code}/zones...`.

Viewers read the zones, their communes and where each structure is; coordinators create,
rename and delete zones, add and remove communes, import `commune;zone[;type]` files and
place a structure in a zone by hand. Every change is a POST with CSRF, an audit event and
one commit.

The import is the directory's two steps (app.tabular_io) written out here, because it
carries one option: « accept communes where the directory has no structure yet ». The
option travels inside the signed payload's kind, so the confirmation cannot change it.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import tabular_io
from app.deps import (
    CoordinatorScope,
    CsrfChecked,
    Scope,
    SessionDep,
    ViewerScope,
    commit_audited,
    or_404,
    see_other,
    workspace_page,
    workspace_url,
)
from app.params import small_int
from survey import directory as d
from survey import vocab
from survey import zones as z
from survey.directory import ImportPreview, Invalid, Refused
from survey.models import Organisation, Zone
from survey.text import problem

router = APIRouter(include_in_schema=False)

NOTICES = {
    "creee": "La zone a été créée : ajoutez-lui ses communes.",
    "modifiee": "La zone a été enregistrée.",
    "supprimee": "La zone a été supprimée.",
    "commune-ajoutee": "La commune a été ajoutée à la zone.",
    "commune-deja": "Cette commune était déjà dans la zone.",
    "commune-retiree": "La commune a été retirée de la zone.",
    "placee": "La zone de la structure a été enregistrée.",
    "importe": "L'import est terminé.",
}
IMPORT_KIND = "zones"
IMPORT_KIND_ACCEPTING = "zones-communes-libres"
BY_COMMUNE = "commune"  # the structure form's value for « selon sa commune »

_render = partial(workspace_page, "coordination")


def _base(scope: Scope) -> str:
    return workspace_url(scope, "zones")


def _zone_or_404(session: Session, scope: Scope, zone_id: int) -> Zone:
    return or_404(
        z.get_zone(session, scope.territory.id, zone_id),
        "Cette zone n'existe pas dans ce territoire.",
    )


# --- list ----------------------------------------------------------------------------------


@router.get("/t/{code}/zones", response_class=HTMLResponse)
def zone_list(request: Request, scope: ViewerScope, session: SessionDep, fait: str = ""):
    placements = z.placements(session, scope.territory.id)
    return _render(
        request,
        "zones/list.html",
        scope,
        rows=z.list_zones(session, scope.territory.id),
        unzoned=sum(1 for p in placements if p.zone is None),
        notice=NOTICES.get(fait, ""),
        formats=tabular_io.EXPORT_FORMATS,
    )


# --- create and edit -----------------------------------------------------------------------


def _read_zone_form(
    name: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = ""
) -> dict[str, str]:
    return {"name": name[:1000], "kind": kind[:40]}


PostedZone = Annotated[dict, Depends(_read_zone_form)]


def _form_page(request, scope, form, zone=None, status=200, errors=None):
    return _render(
        request, "zones/form.html", scope, status, form=form, zone=zone, errors=errors or {}
    )


@router.get("/t/{code}/zones/nouvelle", response_class=HTMLResponse)
def zone_new(request: Request, scope: CoordinatorScope):
    return _form_page(request, scope, {"name": "", "kind": "utas"})


@router.post("/t/{code}/zones/nouvelle", response_class=HTMLResponse)
def zone_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedZone,
    _: None = CsrfChecked,
):
    try:
        zone = z.create_zone(session, scope.territory.id, form["name"], form["kind"])
    except Invalid as exc:
        session.rollback()
        return _form_page(request, scope, form, status=400, errors=exc.errors)
    commit_audited(session, scope, "zone.create", f"zone {zone.id}", zone.name)
    return see_other(f"{_base(scope)}/{zone.id}?fait=creee")


# --- import and export ---------------------------------------------------------------------


ZONE_IMPORT_HINTS = (
    "« commune » et « zone » sont obligatoires : une ligne par commune.",
    "« type » (facultatif) : UTAS, EPCI, Bassin de vie ou Autre ; vide = « Autre ». Il sert à "
    "créer une zone qui n'existe pas encore.",
    "Une commune n'appartient qu'à une zone : une commune déjà dans une autre zone est refusée "
    "(chevauchement). Une commune déjà dans la même zone est « déjà là ».",
    "L'import ajoute des communes, il n'en retire jamais : le bouton « Retirer » de la page "
    "d'une zone le fait.",
)


def _import_page(request: Request, scope: Scope, status: int = 200, **context: Any) -> Response:
    context.setdefault("preview", None)
    context.setdefault("upload_error", "")
    context.setdefault("accept_unknown", False)
    return _render(
        request,
        "zones/import.html",
        scope,
        status,
        kind="zones",
        title="Importer des zones",
        action=f"{_base(scope)}/import",
        back=_base(scope),
        columns=z.ZONE_COLUMNS,
        accept_label=z.ACCEPT_UNKNOWN_LABEL,
        summary=z.zone_import_summary,
        hints=ZONE_IMPORT_HINTS,
        **context,
    )


@router.get("/t/{code}/zones/import", response_class=HTMLResponse)
def zone_import_form(request: Request, scope: CoordinatorScope):
    return _import_page(request, scope)


@router.post(
    "/t/{code}/zones/import",
    response_class=HTMLResponse,
    dependencies=[Depends(tabular_io.upload_size_cap)],
)
async def zone_import_upload(
    request: Request, scope: CoordinatorScope, session: SessionDep, _: None = CsrfChecked
):
    """Read the file and show the preview; when it is right, carry it to the confirmation."""
    try:
        table, filename = await tabular_io.uploaded_table(request, z.ZONE_ALIASES)
    except tabular_io.UploadProblem as exc:
        return _import_page(request, scope, exc.status, upload_error=exc.message)
    accept_unknown = bool((await request.form()).get("accepter"))
    preview = z.preview_zone_import(session, scope.territory.id, table, accept_unknown)
    payload = None
    if preview.ok:
        kind = IMPORT_KIND_ACCEPTING if accept_unknown else IMPORT_KIND
        payload = tabular_io.pack(request.app.state.secret, kind, scope.territory.code, table)
        if payload is None:
            return _import_page(request, scope, 413, upload_error=tabular_io.TOO_LONG)
    return _import_page(
        request,
        scope,
        200 if preview.ok else 422,
        preview=preview,
        payload=payload,
        filename=filename,
        accept_unknown=accept_unknown,
    )


def _unpack(request: Request, scope: Scope, payload: str):
    """The carried table and its option (accept unknown communes)."""
    secret, code = request.app.state.secret, scope.territory.code
    try:
        return tabular_io.unpack(secret, IMPORT_KIND, code, payload), False
    except tabular_io.UploadProblem:
        return tabular_io.unpack(secret, IMPORT_KIND_ACCEPTING, code, payload), True


@router.post("/t/{code}/zones/import/confirmer", response_class=HTMLResponse)
def zone_import_confirm(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    payload: Annotated[str, Form()] = "",
    filename: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    """Check the carried table again against the database, then write it in one commit."""
    if found := problem(filename, "nom du fichier"):  # it goes to the audit log
        return _import_page(request, scope, 400, upload_error=found)
    try:
        table, accept_unknown = _unpack(request, scope, payload)
    except tabular_io.UploadProblem as exc:
        return _import_page(request, scope, exc.status, upload_error=exc.message)
    try:
        preview = z.apply_zone_import(session, scope.territory.id, table, accept_unknown)
    except Refused:
        session.rollback()
        preview = z.preview_zone_import(session, scope.territory.id, table, accept_unknown)
        return _import_page(
            request, scope, 409, preview=preview, filename=filename, accept_unknown=accept_unknown
        )
    commit_audited(
        session, scope, "zone.import", filename[:200] or "fichier", _import_detail(preview)
    )
    return see_other(f"{_base(scope)}?fait=importe")


def _import_detail(preview: ImportPreview) -> str:
    created = sum(1 for line in preview.lines if line.note == "nouvelle zone")
    return f"{preview.count('add')} commune(s) ajoutée(s), {created} zone(s) créée(s)"


@router.get("/t/{code}/zones/export")
def zone_export(scope: ViewerScope, session: SessionDep, format: str = "csv"):
    headers, rows = z.export_zones(session, scope.territory.id)
    return tabular_io.export_response(
        headers, rows, format, f"zones-{scope.territory.code}", "Zones"
    )


# --- structures ----------------------------------------------------------------------------


@router.get("/t/{code}/zones/structures", response_class=HTMLResponse)
def structure_zones_page(request: Request, scope: ViewerScope, session: SessionDep, fait: str = ""):
    return _render(
        request,
        "zones/structures.html",
        scope,
        placements=z.placements(session, scope.territory.id),
        zones=z.zones_of(session, scope.territory.id),
        by_commune=BY_COMMUNE,
        notice=NOTICES.get(fait, ""),
    )


@router.post("/t/{code}/zones/structures/{org_id}", response_class=HTMLResponse)
def structure_zone_set(
    org_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    zone: Annotated[str, Form()] = BY_COMMUNE,
    _: None = CsrfChecked,
):
    org: Organisation = or_404(
        d.get_structure(session, scope.territory.id, org_id),
        "Cette structure n'existe pas dans ce territoire.",
    )
    target = None
    if zone != BY_COMMUNE:
        zone_id = small_int(zone)
        target = or_404(
            z.get_zone(session, scope.territory.id, zone_id) if zone_id is not None else None,
            "Cette zone n'existe pas dans ce territoire.",
        )
    try:
        z.set_structure_zone(session, org, target)
    except Refused as exc:
        session.rollback()
        raise HTTPException(status_code=409, detail=exc.message) from exc
    detail = f"{org.name} : " + (f"zone « {target.name} »" if target else "selon sa commune")
    commit_audited(session, scope, "zone.place", f"structure {org.id}", detail)
    return see_other(f"{_base(scope)}/structures?fait=placee#structure-{org.id}")


# --- one zone ------------------------------------------------------------------------------


def _zone_page(request, session, scope, zone, status=200, notice="", form=None, errors=None):
    placements = [
        p for p in z.placements(session, scope.territory.id) if p.zone and p.zone.id == zone.id
    ]
    return _render(
        request,
        "zones/detail.html",
        scope,
        status,
        zone=zone,
        kind_label=vocab.ZONE_KINDS.get(zone.kind, zone.kind),
        communes=z.communes_of(session, zone),
        placements=placements,
        notice=notice,
        form=form or {"commune": "", "accepter": False},
        accept_label=z.ACCEPT_UNKNOWN_LABEL,
        errors=errors or {},
    )


@router.get("/t/{code}/zones/{zone_id}", response_class=HTMLResponse)
def zone_page(
    request: Request, zone_id: int, scope: ViewerScope, session: SessionDep, fait: str = ""
):
    zone = _zone_or_404(session, scope, zone_id)
    return _zone_page(request, session, scope, zone, notice=NOTICES.get(fait, ""))


@router.get("/t/{code}/zones/{zone_id}/modifier", response_class=HTMLResponse)
def zone_edit(request: Request, zone_id: int, scope: CoordinatorScope, session: SessionDep):
    zone = _zone_or_404(session, scope, zone_id)
    return _form_page(request, scope, {"name": zone.name, "kind": zone.kind}, zone)


@router.post("/t/{code}/zones/{zone_id}/modifier", response_class=HTMLResponse)
def zone_update(
    request: Request,
    zone_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedZone,
    _: None = CsrfChecked,
):
    zone = _zone_or_404(session, scope, zone_id)
    before = zone.name
    try:
        z.update_zone(session, zone, form["name"], form["kind"])
    except Invalid as exc:
        session.rollback()
        zone = _zone_or_404(session, scope, zone_id)
        return _form_page(request, scope, form, zone, 400, exc.errors)
    detail = zone.name if before == zone.name else f"« {before} » renommée « {zone.name} »"
    commit_audited(session, scope, "zone.update", f"zone {zone.id}", detail)
    return see_other(f"{_base(scope)}/{zone.id}?fait=modifiee")


@router.get("/t/{code}/zones/{zone_id}/supprimer", response_class=HTMLResponse)
def zone_delete_confirm(
    request: Request, zone_id: int, scope: CoordinatorScope, session: SessionDep
):
    zone = _zone_or_404(session, scope, zone_id)
    by_hand = [
        p
        for p in z.placements(session, scope.territory.id)
        if p.by_hand is not None and p.by_hand.id == zone.id
    ]
    return _render(
        request,
        "zones/delete.html",
        scope,
        zone=zone,
        communes=z.communes_of(session, zone),
        by_hand=by_hand,
    )


@router.post("/t/{code}/zones/{zone_id}/supprimer", response_class=HTMLResponse)
def zone_delete(zone_id: int, scope: CoordinatorScope, session: SessionDep, _: None = CsrfChecked):
    zone = _zone_or_404(session, scope, zone_id)
    name, communes = zone.name, len(z.communes_of(session, zone))
    placed = z.delete_zone(session, zone)
    detail = f"{name} : {communes} commune(s), {placed} structure(s) placée(s) à la main"
    commit_audited(session, scope, "zone.delete", f"zone {zone_id}", detail)
    return see_other(f"{_base(scope)}?fait=supprimee")


@router.post("/t/{code}/zones/{zone_id}/communes", response_class=HTMLResponse)
def commune_add(
    request: Request,
    zone_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    commune: Annotated[str, Form()] = "",
    accepter: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    zone = _zone_or_404(session, scope, zone_id)
    form = {"commune": commune[:1000], "accepter": bool(accepter)}
    try:
        added = z.add_commune(session, zone, form["commune"], accept_unknown=form["accepter"])
    except Invalid as exc:
        session.rollback()
        zone = _zone_or_404(session, scope, zone_id)
        return _zone_page(request, session, scope, zone, 400, form=form, errors=exc.errors)
    if not added:
        return see_other(f"{_base(scope)}/{zone.id}?fait=commune-deja#communes")
    detail = f"{zone.name} : + {' '.join(commune.split())}"
    commit_audited(session, scope, "zone.commune.add", f"zone {zone.id}", detail)
    return see_other(f"{_base(scope)}/{zone.id}?fait=commune-ajoutee#communes")


@router.post("/t/{code}/zones/{zone_id}/communes/retirer", response_class=HTMLResponse)
def commune_remove(
    zone_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    commune: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    zone = _zone_or_404(session, scope, zone_id)
    removed = or_404(
        z.remove_commune(session, zone, commune[:200]),
        "Cette commune n'est pas dans cette zone.",
    )
    detail = f"{zone.name} : − {removed.commune}"
    commit_audited(session, scope, "zone.commune.remove", f"zone {zone.id}", detail)
    return see_other(f"{_base(scope)}/{zone.id}?fait=commune-retiree#communes")
