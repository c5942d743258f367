"""The instances of a territory: `/t/{code}/instances...` (commissions, networks, working
groups and their official member structures).

Viewers read the list, the instance pages and the export; coordinators create, edit,
archive, add and remove members and import. Every change is a POST with CSRF, an audit event
and one commit; a refused or invalid change rolls back and shows the page again with what
was typed and a French message. Another territory's instance or structure is a 404.
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
from survey import instances as inst
from survey.directory import Invalid, Refused
from survey.models import Body

router = APIRouter(include_in_schema=False)

NOTICES = {
    "creee": "L'instance a été créée.",
    "modifiee": "L'instance a été enregistrée.",
    "archivee": "L'instance a été archivée : elle n'est plus proposée dans le questionnaire.",
    "reactivee": "L'instance a été réactivée : elle est de nouveau proposée dans le questionnaire.",
    "membre-ajoute": "La structure fait maintenant partie des membres.",
    "deja-membre": "Cette structure était déjà membre de l'instance : rien n'a changé.",
    "membre-retire": "La structure ne fait plus partie des membres.",
    "importe": "L'import est terminé.",
}
NOT_HERE = "Cette instance n'existe pas dans ce territoire."

_render = partial(workspace_page, "coordination")


def _base(scope: Scope) -> str:
    return workspace_url(scope, "instances")


def _body_or_404(session: Session, scope: Scope, body_id: int) -> Body:
    return or_404(inst.get_instance(session, scope.territory.id, body_id), NOT_HERE)


def _audit(session: Session, scope: Scope, action: str, body: Body, detail: str) -> None:
    commit_audited(session, scope, action, f"instance {body.id}", detail)


# --- list ----------------------------------------------------------------------------------


@router.get("/t/{code}/instances", response_class=HTMLResponse)
def instance_list(request: Request, scope: ViewerScope, session: SessionDep, fait: str = ""):
    rows = inst.list_instances(session, scope.territory.id)
    return _render(
        request,
        "instances/list.html",
        scope,
        active=[r for r in rows if r.body.active],
        archived=[r for r in rows if not r.body.active],
        notice=NOTICES.get(fait, ""),
        formats=tabular_io.EXPORT_FORMATS,
    )


# --- import and export (before the `{body_id}` routes, which would catch their paths) ------


IMPORT = tabular_io.ImportFlow(
    kind="instances",
    title="Importer des instances",
    path="/t/{code}/instances",
    columns=inst.INSTANCE_COLUMNS,
    aliases=inst.INSTANCE_ALIASES,
    check=inst.preview_instance_import,
    write=inst.apply_instance_import,
    audit_action="body.import",
    audit_detail=inst.import_audit,
    render=_render,
    export_rows=inst.export_instances,
    export_name="instances",
    export_sheet="Instances",
    hints=inst.IMPORT_HINTS,
    summary=inst.import_summary,
)
tabular_io.add_import_routes(router, IMPORT, export_scope=ViewerScope)


# --- create and edit -----------------------------------------------------------------------


def _form(data: inst.InstanceData, member_ids: list[int]) -> dict:
    """What the form shows: text as typed, choices as the strings the inputs send."""
    return {
        "name": data.name,
        "kind": data.kind,
        "convener_id": "" if data.convener_id is None else str(data.convener_id),
        "frequency": data.frequency,
        "description": data.description,
        "thematiques": set(data.thematiques),
        "members": {str(i) for i in member_ids},
    }


def _read_form(
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    convener_id: Annotated[str, Form()] = "",
    frequency: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    thematiques: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies the default)
    members: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies the default)
) -> tuple[inst.InstanceData, list[int]]:
    """The posted instance and member ids. A value that is not a number becomes an id no
    structure has, so the domain refuses it with its French message next to the field."""
    convener = convener_id.strip()
    data = inst.InstanceData(
        name=name[:2000],
        kind=kind[:40],
        convener_id=(small_int(convener) or -1) if convener else None,
        frequency=frequency[:40],
        thematiques=[t[:100] for t in thematiques[:100]],
        description=description[:6000],
    )
    member_ids = [small_int(m) or -1 for m in members[: inst.MAX_MEMBERS + 1]]
    return data, member_ids


PostedInstance = Annotated[tuple[inst.InstanceData, list[int]], Depends(_read_form)]


def _form_page(
    request: Request,
    session: Session,
    scope: Scope,
    form: dict,
    body: Body | None = None,
    status: int = 200,
    errors: dict | None = None,
):
    kept = [int(i) for i in form["members"] if i.lstrip("-").isdecimal()]
    if form["convener_id"].isdecimal():
        kept.append(int(form["convener_id"]))
    return _render(
        request,
        "instances/form.html",
        scope,
        status,
        form=form,
        body=body,
        choices=inst.structure_choices(session, scope.territory.id, kept),
        errors=errors or {},
    )


@router.get("/t/{code}/instances/nouvelle", response_class=HTMLResponse)
def instance_new(request: Request, scope: CoordinatorScope, session: SessionDep):
    return _form_page(request, session, scope, _form(inst.InstanceData(), []))


@router.post("/t/{code}/instances/nouvelle", response_class=HTMLResponse)
def instance_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    posted: PostedInstance,
    _: None = CsrfChecked,
):
    data, member_ids = posted
    try:
        body = inst.create_instance(session, scope.territory.id, data, member_ids)
    except Invalid as exc:
        session.rollback()
        form = _form(data, member_ids)
        return _form_page(request, session, scope, form, status=400, errors=exc.errors)
    _audit(session, scope, "body.create", body, body.name)
    return see_other(f"{_base(scope)}/{body.id}?fait=creee")


@router.get("/t/{code}/instances/{body_id}/modifier", response_class=HTMLResponse)
def instance_edit(request: Request, body_id: int, scope: CoordinatorScope, session: SessionDep):
    body = _body_or_404(session, scope, body_id)
    members = [m.id for m in inst.instance_row(session, body).members if m.id is not None]
    form = _form(inst.data_of(body), members)
    return _form_page(request, session, scope, form, body)


@router.post("/t/{code}/instances/{body_id}/modifier", response_class=HTMLResponse)
def instance_update(
    request: Request,
    body_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    posted: PostedInstance,
    _: None = CsrfChecked,
):
    body = _body_or_404(session, scope, body_id)
    data, member_ids = posted
    try:
        inst.update_instance(session, body, data, member_ids)
    except Invalid as exc:
        session.rollback()
        body = _body_or_404(session, scope, body_id)
        form = _form(data, member_ids)
        return _form_page(request, session, scope, form, body, 400, exc.errors)
    _audit(session, scope, "body.update", body, body.name)
    return see_other(f"{_base(scope)}/{body.id}?fait=modifiee")


# --- one instance --------------------------------------------------------------------------


def _instance_page(
    request: Request,
    session: Session,
    scope: Scope,
    body: Body,
    status: int = 200,
    notice: str = "",
    action_error: str = "",
):
    row = inst.instance_row(session, body)
    members = {m.id for m in row.members}
    choices = [
        (family, [o for o in orgs if o.id not in members and o.status == "active"])
        for family, orgs in inst.structure_choices(session, scope.territory.id)
    ]
    return _render(
        request,
        "instances/instance.html",
        scope,
        status,
        row=row,
        body=body,
        choices=[(family, orgs) for family, orgs in choices if orgs],
        notice=notice,
        action_error=action_error,
    )


@router.get("/t/{code}/instances/{body_id}", response_class=HTMLResponse)
def instance_page(
    request: Request, body_id: int, scope: ViewerScope, session: SessionDep, fait: str = ""
):
    body = _body_or_404(session, scope, body_id)
    return _instance_page(request, session, scope, body, notice=NOTICES.get(fait, ""))


def _refused(
    request: Request, session: Session, scope: Scope, body_id: int, status: int, message: str
):
    """The instance page again after a refused change, with the reason."""
    session.rollback()
    body = _body_or_404(session, scope, body_id)
    return _instance_page(request, session, scope, body, status, action_error=message)


@router.post("/t/{code}/instances/{body_id}/archiver", response_class=HTMLResponse)
def instance_archive(
    request: Request, body_id: int, scope: CoordinatorScope, session: SessionDep,
    _: None = CsrfChecked,
):  # fmt: skip
    body = _body_or_404(session, scope, body_id)
    try:
        inst.archive_instance(session, body)
    except Refused as exc:
        return _refused(request, session, scope, body_id, 409, exc.message)
    _audit(session, scope, "body.archive", body, body.name)
    return see_other(f"{_base(scope)}/{body.id}?fait=archivee")


@router.post("/t/{code}/instances/{body_id}/reactiver", response_class=HTMLResponse)
def instance_restore(
    request: Request, body_id: int, scope: CoordinatorScope, session: SessionDep,
    _: None = CsrfChecked,
):  # fmt: skip
    body = _body_or_404(session, scope, body_id)
    try:
        inst.restore_instance(session, body)
    except Refused as exc:
        return _refused(request, session, scope, body_id, 409, exc.message)
    _audit(session, scope, "body.restore", body, body.name)
    return see_other(f"{_base(scope)}/{body.id}?fait=reactivee")


def _local_return(scope: Scope, retour: str) -> str | None:
    """`retour` when it is a page of this territory's workspace (never another site)."""
    prefix = f"/t/{scope.territory.code}/"
    plain = all(ch.isprintable() and not ch.isspace() for ch in retour)
    if retour.startswith(prefix) and plain and "\\" not in retour and len(retour) <= 1000:
        return retour
    return None


@router.post("/t/{code}/instances/{body_id}/membres", response_class=HTMLResponse)
def member_add(
    request: Request,
    body_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    organisation_id: Annotated[str, Form()] = "",
    retour: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    body = _body_or_404(session, scope, body_id)
    org_id = small_int(organisation_id)
    if org_id is None:
        message = "Choisissez dans la liste la structure à ajouter aux membres."
        return _refused(request, session, scope, body_id, 400, message)
    try:
        org, added = inst.add_member(session, body, org_id)
    except inst.UnknownStructure as exc:
        return _refused(request, session, scope, body_id, 404, exc.message)
    except Refused as exc:
        return _refused(request, session, scope, body_id, 409, exc.message)
    if added:
        _audit(session, scope, "body.member_add", body, f"« {org.name} » ajoutée à « {body.name} »")
    back = _local_return(scope, retour)
    return see_other(
        back or f"{_base(scope)}/{body.id}?fait={'membre-ajoute' if added else 'deja-membre'}"
    )


@router.post("/t/{code}/instances/{body_id}/membres/{org_id}/retirer", response_class=HTMLResponse)
def member_remove(
    request: Request,
    body_id: int,
    org_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    body = _body_or_404(session, scope, body_id)
    try:
        org = inst.remove_member(session, body, org_id)
    except inst.UnknownStructure as exc:
        return _refused(request, session, scope, body_id, 404, exc.message)
    except Refused as exc:
        return _refused(request, session, scope, body_id, 409, exc.message)
    _audit(session, scope, "body.member_remove", body, f"« {org.name} » retirée de « {body.name} »")
    return see_other(f"{_base(scope)}/{body.id}?fait=membre-retire")
