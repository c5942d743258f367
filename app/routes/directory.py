"""The directory pages of a territory: `/t/{code}/repertoire...`.

Viewers read the list, the structure pages and the export; coordinators create, edit,
archive, merge, confirm proposals and import. Every change is a POST with CSRF, an audit
event and one commit; a refused or invalid change rolls back and shows the form again with
what was typed and French messages.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
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
from survey import professionals as pros
from survey import vocab
from survey.db import stored_id
from survey.models import Organisation, Service

router = APIRouter(include_in_schema=False)

NOTICES = {
    "creee": "La structure a été ajoutée au répertoire.",
    "modifiee": "Les informations de la structure ont été enregistrées.",
    "archivee": "La structure a été archivée : elle ne sera plus proposée dans le questionnaire.",
    "reactivee": "La structure a été réactivée.",
    "confirmee": "La structure proposée fait maintenant partie du répertoire.",
    "fusionnee": "Les deux structures ont été fusionnées : rien n'a été perdu.",
    "service-ajoute": "Le service a été ajouté.",
    "service-modifie": "Le service a été enregistré.",
    "service-archive": "Le service a été archivé.",
    "importe": "L'import est terminé.",
}
STRUCTURE_FIELDS = ("name", "type", "commune", "siret", "missions")
SERVICE_FIELD_IDS = {"name": "service_name"}


def _org_or_404(session: Session, scope: Scope, org_id: int) -> Organisation:
    return or_404(
        d.get_structure(session, scope.territory.id, org_id),
        "Cette structure n'existe pas dans ce territoire.",
    )


_render = partial(workspace_page, "repertoire", status_labels=d.STATUS_LABELS)


# --- list ----------------------------------------------------------------------------------


@router.get("/t/{code}/repertoire", response_class=HTMLResponse)
def structure_list(
    request: Request,
    scope: ViewerScope,
    session: SessionDep,
    q: str = "",
    type: str = "",
    statut: str = "active",
    fait: str = "",
):
    statuses = {"active": ("active",), "archived": ("archived",)}.get(statut, ("active",))
    type_code = type if type in vocab.ORG_TYPES else ""
    rows = d.list_structures(
        session, scope.territory.id, q=q[:200], type=type_code, statuses=statuses
    )
    proposed = len(d.proposed_structures(session, scope.territory.id)) if scope.can_write else 0
    return _render(
        request,
        "directory/list.html",
        scope,
        rows=rows,
        q=q[:200],
        type=type_code,
        statut=statut if statut in ("active", "archived") else "active",
        proposed=proposed,
        notice=NOTICES.get(fait, ""),
        formats=tabular_io.EXPORT_FORMATS,
    )


# --- create --------------------------------------------------------------------------------


def _structure_form(
    name: str = "", type: str = "", commune: str = "", siret: str = "", missions: str = ""
) -> dict[str, str]:
    return {"name": name, "type": type, "commune": commune, "siret": siret, "missions": missions}


StructureForm = Annotated[dict, Depends(_structure_form)]


def _form_data(form: dict[str, str]) -> d.StructureData:
    return d.StructureData(**{k: form.get(k, "")[:6000] for k in STRUCTURE_FIELDS})


def _read_structure_form(
    name: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "",
    commune: Annotated[str, Form()] = "",
    siret: Annotated[str, Form()] = "",
    missions: Annotated[str, Form()] = "",
) -> dict[str, str]:
    return _structure_form(name, type, commune, siret, missions)


PostedStructure = Annotated[dict, Depends(_read_structure_form)]


@router.get("/t/{code}/repertoire/nouvelle", response_class=HTMLResponse)
def structure_new(request: Request, scope: CoordinatorScope):
    return _render(request, "directory/form.html", scope, form=_structure_form(), mode="create")


@router.post("/t/{code}/repertoire/nouvelle", response_class=HTMLResponse)
def structure_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedStructure,
    _: None = CsrfChecked,
):
    try:
        org = d.create_structure(session, scope.territory.id, _form_data(form))
    except d.Invalid as exc:
        session.rollback()
        return _render(
            request, "directory/form.html", scope, 400, form=form, mode="create", errors=exc.errors
        )
    commit_audited(session, scope, "organisation.create", f"structure {org.id}", org.name)
    return see_other(f"{workspace_url(scope, 'repertoire')}/{org.id}?fait=creee")


# --- proposals -----------------------------------------------------------------------------


@router.get("/t/{code}/repertoire/propositions", response_class=HTMLResponse)
def proposed_list(request: Request, scope: CoordinatorScope, session: SessionDep):
    rows = d.proposed_structures(session, scope.territory.id)
    proposer_ids = {r.organisation.proposed_by_id for r in rows if r.organisation.proposed_by_id}
    proposers = pros.names_by_id(session, scope.territory.id, proposer_ids)
    # Only names really alike (survey.similarity): an unrelated first-of-list is misleading.
    candidates = {r.organisation.id: d.merge_suggestions(session, r.organisation)[:3] for r in rows}
    return _render(
        request,
        "directory/proposed.html",
        scope,
        rows=rows,
        proposers=proposers,
        candidates=candidates,
    )


# --- import and export ---------------------------------------------------------------------


IMPORT = tabular_io.ImportFlow(
    kind="structures",
    title="Importer des structures",
    path="/t/{code}/repertoire",
    columns=d.STRUCTURE_COLUMNS,
    aliases=d.STRUCTURE_ALIASES,
    check=d.preview_structure_import,
    write=d.apply_structure_import,
    audit_action="organisation.import",
    audit_detail=lambda p: f"{p.count('create')} créée(s), {p.count('update')} mise(s) à jour",
    render=_render,
    export_rows=d.export_structures,
    export_name="repertoire",
    export_sheet="Répertoire",
)
tabular_io.add_import_routes(router, IMPORT, export_scope=ViewerScope)


# --- one structure -------------------------------------------------------------------------


def _service_form(data: d.ServiceData | None = None) -> dict:
    data = data or d.ServiceData()
    return {**data.__dict__, "service_name": data.name}


def _structure_page(
    request: Request,
    session: Session,
    scope: Scope,
    org: Organisation,
    status: int = 200,
    notice: str = "",
    service_form: dict | None = None,
    errors: dict | None = None,
    action_error: str = "",
):
    services = d.services_of(session, org)
    people = pros.active_in_structure(session, stored_id(org)) if scope.can_write else []
    merged_into = (
        d.get_structure(session, scope.territory.id, org.merged_into_id)
        if org.merged_into_id
        else None
    )
    counts = d.list_structures(session, scope.territory.id, statuses=(org.status,))
    row = next((r for r in counts if r.organisation.id == org.id), None)
    return _render(
        request,
        "directory/structure.html",
        scope,
        status,
        org=org,
        row=row,
        services=services,
        professionals=people,
        merged_into=merged_into,
        notice=notice,
        service_form=service_form or _service_form(),
        errors=errors or {},
        action_error=action_error,
    )


@router.get("/t/{code}/repertoire/{org_id}", response_class=HTMLResponse)
def structure_page(
    request: Request, org_id: int, scope: ViewerScope, session: SessionDep, fait: str = ""
):
    org = _org_or_404(session, scope, org_id)
    return _structure_page(request, session, scope, org, notice=NOTICES.get(fait, ""))


@router.get("/t/{code}/repertoire/{org_id}/modifier", response_class=HTMLResponse)
def structure_edit(request: Request, org_id: int, scope: CoordinatorScope, session: SessionDep):
    org = _org_or_404(session, scope, org_id)
    form = _structure_form(org.name, org.type, org.commune, org.siret or "", org.missions)
    mode = "confirm" if org.status == "proposed" else "edit"
    return _render(request, "directory/form.html", scope, form=form, org=org, mode=mode)


@router.post("/t/{code}/repertoire/{org_id}/modifier", response_class=HTMLResponse)
def structure_update(
    request: Request,
    org_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedStructure,
    confirmer: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    org = _org_or_404(session, scope, org_id)
    confirming = bool(confirmer) and org.status == "proposed"
    mode = "confirm" if org.status == "proposed" else "edit"
    try:
        if confirming:
            d.confirm_structure(session, org, _form_data(form))
        else:
            d.update_structure(session, org, _form_data(form))
    except d.Invalid as exc:
        session.rollback()
        org = _org_or_404(session, scope, org_id)
        return _render(
            request,
            "directory/form.html",
            scope,
            400,
            form=form,
            org=org,
            mode=mode,
            errors=exc.errors,
        )
    except d.Refused as exc:
        session.rollback()
        org = _org_or_404(session, scope, org_id)
        return _render(
            request, "directory/form.html", scope, 409, form=form, org=org, mode=mode,
            errors={"name": exc.message},
        )  # fmt: skip
    action = "organisation.confirm" if confirming else "organisation.update"
    commit_audited(session, scope, action, f"structure {org.id}", org.name)
    return see_other(
        f"{workspace_url(scope, 'repertoire')}/{org.id}?fait={'confirmee' if confirming else 'modifiee'}"
    )


def _status_change(request, session, scope, org_id, change, action, notice):
    org = _org_or_404(session, scope, org_id)
    try:
        change(session, org)
    except d.Refused as exc:
        session.rollback()
        org = _org_or_404(session, scope, org_id)
        return _structure_page(request, session, scope, org, 409, action_error=exc.message)
    commit_audited(session, scope, action, f"structure {org.id}", org.name)
    return see_other(f"{workspace_url(scope, 'repertoire')}/{org.id}?fait={notice}")


@router.post("/t/{code}/repertoire/{org_id}/archiver", response_class=HTMLResponse)
def structure_archive(
    request: Request,
    org_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    return _status_change(
        request, session, scope, org_id, d.archive_structure, "organisation.archive", "archivee"
    )


@router.post("/t/{code}/repertoire/{org_id}/reactiver", response_class=HTMLResponse)
def structure_restore(
    request: Request,
    org_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    return _status_change(
        request, session, scope, org_id, d.restore_structure, "organisation.restore", "reactivee"
    )


# --- merge ---------------------------------------------------------------------------------


def _merge_page(request, session, scope, org, status=200, target=None, errors=None):
    preview = None
    if target is not None:
        preview = d.list_structures(session, scope.territory.id, statuses=(org.status,))
        preview = next((r for r in preview if r.organisation.id == org.id), None)
    return _render(
        request,
        "directory/merge.html",
        scope,
        status,
        org=org,
        candidates=d.merge_candidates(session, org),
        suggested={o.id for o in d.merge_suggestions(session, org)},
        target=target,
        moving=preview,
        errors=errors or {},
    )


@router.get("/t/{code}/repertoire/{org_id}/fusionner", response_class=HTMLResponse)
def merge_form(request: Request, org_id: int, scope: CoordinatorScope, session: SessionDep):
    org = _org_or_404(session, scope, org_id)
    if org.status == "merged":
        return see_other(f"{workspace_url(scope, 'repertoire')}/{org.id}")
    return _merge_page(request, session, scope, org)


@router.post("/t/{code}/repertoire/{org_id}/fusionner", response_class=HTMLResponse)
def merge(
    request: Request,
    org_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    cible: Annotated[str, Form()] = "",
    confirmer: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    org = _org_or_404(session, scope, org_id)
    cible_id = small_int(cible)
    target = d.get_structure(session, scope.territory.id, cible_id) if cible_id else None
    if target is None:
        return _merge_page(
            request, session, scope, org, 400,
            errors={"cible": "Choisissez la structure qui absorbe celle-ci."},
        )  # fmt: skip
    if not confirmer:
        # First step: say exactly what will move before doing it.
        return _merge_page(request, session, scope, org, target=target)
    try:
        report = d.merge_structures(session, org, target)
    except d.Refused as exc:
        session.rollback()
        org = _org_or_404(session, scope, org_id)
        return _merge_page(request, session, scope, org, 409, errors={"cible": exc.message})
    detail = (
        f"« {org.name} » fusionnée dans « {target.name} » : {report.professionals} professionnel(s), "
        f"{report.responses} réponse(s), {report.links} lien(s) déclarés re-pointés, "
        f"{report.links_collapsed} doublon(s) regroupé(s)"
    )
    commit_audited(
        session, scope, "organisation.merge", f"structure {org.id} -> {target.id}", detail
    )
    return see_other(f"{workspace_url(scope, 'repertoire')}/{target.id}?fait=fusionnee")


# --- services ------------------------------------------------------------------------------


def _read_service_form(
    service_name: Annotated[str, Form()] = "",
    contact_role: Annotated[str, Form()] = "",
    contact_name: Annotated[str, Form()] = "",
    contact_phone: Annotated[str, Form()] = "",
    contact_email: Annotated[str, Form()] = "",
    contact_consent: Annotated[str, Form()] = "",
) -> dict:
    return {
        "service_name": service_name[:300],
        "contact_role": contact_role[:300],
        "contact_name": contact_name[:300],
        "contact_phone": contact_phone[:100],
        "contact_email": contact_email[:300],
        "contact_consent": bool(contact_consent),
    }


PostedService = Annotated[dict, Depends(_read_service_form)]


def _service_data(form: dict) -> d.ServiceData:
    return d.ServiceData(
        name=form["service_name"],
        contact_role=form["contact_role"],
        contact_name=form["contact_name"],
        contact_phone=form["contact_phone"],
        contact_email=form["contact_email"],
        contact_consent=form["contact_consent"],
    )


def _service_errors(errors: dict[str, str]) -> dict[str, str]:
    return {SERVICE_FIELD_IDS.get(k, k): v for k, v in errors.items()}


@router.post("/t/{code}/repertoire/{org_id}/services", response_class=HTMLResponse)
def service_add(
    request: Request,
    org_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedService,
    _: None = CsrfChecked,
):
    org = _org_or_404(session, scope, org_id)
    try:
        svc = d.add_service(session, org, _service_data(form))
    except (d.Invalid, d.Refused) as exc:
        session.rollback()
        errors = (
            _service_errors(exc.errors)
            if isinstance(exc, d.Invalid)
            else {"service_name": exc.message}
        )
        org = _org_or_404(session, scope, org_id)
        return _structure_page(request, session, scope, org, 400, service_form=form, errors=errors)
    commit_audited(
        session, scope, "service.create", f"service {svc.id}", f"{org.name} — {svc.name}"
    )
    return see_other(f"{workspace_url(scope, 'repertoire')}/{org.id}?fait=service-ajoute#services")


def _service_or_404(session, scope, org_id, service_id) -> tuple[Organisation, Service]:
    org = _org_or_404(session, scope, org_id)
    svc = or_404(
        d.get_service(session, org, service_id), "Ce service n'existe pas dans cette structure."
    )
    return org, svc


@router.get("/t/{code}/repertoire/{org_id}/services/{service_id}", response_class=HTMLResponse)
def service_edit(
    request: Request, org_id: int, service_id: int, scope: CoordinatorScope, session: SessionDep
):
    org, svc = _service_or_404(session, scope, org_id, service_id)
    form = _service_form(
        d.ServiceData(**{k: getattr(svc, k) for k in d.ServiceData.__dataclass_fields__})
    )
    return _render(request, "directory/service.html", scope, org=org, service=svc, form=form)


@router.post("/t/{code}/repertoire/{org_id}/services/{service_id}", response_class=HTMLResponse)
def service_update(
    request: Request,
    org_id: int,
    service_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedService,
    _: None = CsrfChecked,
):
    org, svc = _service_or_404(session, scope, org_id, service_id)
    try:
        d.update_service(session, svc, _service_data(form))
    except d.Invalid as exc:
        session.rollback()
        org, svc = _service_or_404(session, scope, org_id, service_id)
        return _render(
            request, "directory/service.html", scope, 400, org=org, service=svc, form=form,
            errors=_service_errors(exc.errors),
        )  # fmt: skip
    commit_audited(
        session, scope, "service.update", f"service {svc.id}", f"{org.name} — {svc.name}"
    )
    return see_other(f"{workspace_url(scope, 'repertoire')}/{org.id}?fait=service-modifie#services")


@router.post(
    "/t/{code}/repertoire/{org_id}/services/{service_id}/archiver", response_class=HTMLResponse
)
def service_archive(
    request: Request,
    org_id: int,
    service_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    org, svc = _service_or_404(session, scope, org_id, service_id)
    d.archive_service(session, svc)
    commit_audited(
        session, scope, "service.archive", f"service {svc.id}", f"{org.name} — {svc.name}"
    )
    return see_other(f"{workspace_url(scope, 'repertoire')}/{org.id}?fait=service-archive#services")
