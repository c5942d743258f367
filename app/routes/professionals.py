"""The professionals pages of a territory: `/t/{code}/professionnels...` (coordinators only:
names and e-mails are personal data)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse

from app import tabular_io
from app.deps import (
    CoordinatorScope,
    CsrfChecked,
    SessionDep,
    checked_people,
    commit_audited,
    commit_audited_each,
    professional_or_404,
    see_other,
    workspace_page,
    workspace_url,
)
from app.params import small_int
from survey import directory as d
from survey import professionals as p
from survey.models import Professional

router = APIRouter(include_in_schema=False)

NOTICES = {
    "ajoute": "La fiche a été ajoutée.",
    "modifie": "La fiche a été enregistrée.",
    "parti": "Le départ est enregistré : ses réponses passées restent comptées.",
    "partis": "Les départs sont enregistrés : leurs réponses passées restent comptées.",
    "retour": "La personne est de nouveau active.",
    "importe": "L'import est terminé.",
    "efface": "Les données personnelles sont effacées ; les réponses restent, sans nom.",
}


_render = partial(workspace_page, "professionnels")


# --- list ----------------------------------------------------------------------------------


@router.get("/t/{code}/professionnels", response_class=HTMLResponse)
def professional_list(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    q: str = "",
    structure: str = "",
    etat: str = "actifs",
    fait: str = "",
):
    org_id = small_int(structure)
    active = {"actifs": True, "partis": False, "tous": None}.get(etat, True)
    rows = p.list_professionals(
        session, scope.territory.id, q=q[:200], organisation_id=org_id, active=active
    )
    return _render(
        request,
        "professionals/list.html",
        scope,
        rows=rows,
        q=q[:200],
        structure=org_id,
        etat=etat if etat in ("actifs", "partis", "tous") else "actifs",
        organisations=p.organisation_choices(session, scope.territory.id),
        notice=NOTICES.get(fait, ""),
        formats=tabular_io.EXPORT_FORMATS,
    )


# --- several people leave at once (before /{pro_id}, which would read « departs » as an id) --


def _structure_names(session, scope) -> dict[int, str]:
    return {o.id: o.name for o in p.organisation_choices(session, scope.territory.id)}


@router.get("/t/{code}/professionnels/departs", response_class=HTMLResponse)
def leave_many_confirm(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    p_: Annotated[list[str], Query(alias="p")] = [],  # noqa: B006 (FastAPI copies the default)
):
    people = checked_people(session, scope, p_)
    leaving = [x for x in people if x.active]
    gone = [x for x in people if not x.active]
    return _render(
        request,
        "professionals/leave_many.html",
        scope,
        200 if leaving else 409,
        leaving=leaving,
        gone=gone,
        structures=_structure_names(session, scope),
    )


@router.post("/t/{code}/professionnels/departs", response_class=HTMLResponse)
def leave_many_do(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    p_: Annotated[list[str], Form(alias="p")] = [],  # noqa: B006 (FastAPI copies the default)
    _: None = CsrfChecked,
):
    people = checked_people(session, scope, p_)
    try:
        p.deactivate_many(session, people)
    except d.Refused as exc:
        session.rollback()
        people = checked_people(session, scope, p_)
        return _render(
            request,
            "professionals/leave_many.html",
            scope,
            409,
            leaving=[x for x in people if x.active],
            gone=[x for x in people if not x.active],
            structures=_structure_names(session, scope),
            refusal=exc.message,
        )
    commit_audited_each(
        session,
        scope,
        "professional.deactivate",
        [(f"professionnel {pro.id}", "départ groupé") for pro in people],
    )
    return see_other(f"{workspace_url(scope, 'professionnels')}?fait=partis")


# --- add and edit --------------------------------------------------------------------------


def _read_form(
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    function: Annotated[str, Form()] = "",
    organisation_id: Annotated[str, Form()] = "",
    service_id: Annotated[str, Form()] = "",
    took_over_from_id: Annotated[str, Form()] = "",
) -> dict[str, str]:
    return {
        "full_name": full_name[:300],
        "email": email[:300],
        "function": function[:300],
        "organisation_id": organisation_id,
        "service_id": service_id,
        "took_over_from_id": took_over_from_id,
    }


PostedProfessional = Annotated[dict, Depends(_read_form)]


def _int_or_none(value: str) -> int | None:
    return small_int(value)


def _data(form: dict[str, str]) -> p.ProfessionalData:
    return p.ProfessionalData(
        full_name=form["full_name"],
        email=form["email"],
        function=form["function"],
        organisation_id=_int_or_none(form["organisation_id"]),
        service_id=_int_or_none(form["service_id"]),
        took_over_from_id=_int_or_none(form["took_over_from_id"]),
    )


def _form_of(pro: Professional | None) -> dict[str, str]:
    if pro is None:
        return {k: "" for k in ("full_name", "email", "function", "organisation_id", "service_id",
                                "took_over_from_id")}  # fmt: skip
    return {
        "full_name": pro.full_name,
        "email": pro.email,
        "function": pro.function,
        "organisation_id": str(pro.organisation_id),
        "service_id": str(pro.service_id or ""),
        "took_over_from_id": str(pro.took_over_from_id or ""),
    }


def _form_page(request, session, scope, form, pro=None, status=200, errors=None):
    orgs = p.organisation_choices(session, scope.territory.id)
    services = p.service_choices(session, scope.territory.id)
    others = [
        r for r in p.list_professionals(session, scope.territory.id, active=None)
        if pro is None or r.professional.id != pro.id
    ]  # fmt: skip
    return _render(
        request,
        "professionals/form.html",
        scope,
        status,
        form=form,
        pro=pro,
        organisations=orgs,
        services=services,
        others=others,
        errors=errors or {},
    )


@router.get("/t/{code}/professionnels/nouveau", response_class=HTMLResponse)
def professional_new(
    request: Request, scope: CoordinatorScope, session: SessionDep, structure: str = ""
):
    form = _form_of(None)
    form["organisation_id"] = structure if small_int(structure) is not None else ""
    return _form_page(request, session, scope, form)


@router.post("/t/{code}/professionnels/nouveau", response_class=HTMLResponse)
def professional_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedProfessional,
    _: None = CsrfChecked,
):
    try:
        pro = p.add_professional(session, scope.territory.id, _data(form))
    except d.Invalid as exc:
        session.rollback()
        return _form_page(request, session, scope, form, status=400, errors=exc.errors)
    commit_audited(session, scope, "professional.create", f"professionnel {pro.id}")
    return see_other(f"{workspace_url(scope, 'professionnels')}?fait=ajoute")


IMPORT = tabular_io.ImportFlow(
    kind="professionals",
    title="Importer des professionnels",
    path="/t/{code}/professionnels",
    columns=p.PRO_COLUMNS,
    aliases=p.PRO_ALIASES,
    check=p.preview_professional_import,
    write=p.apply_professional_import,
    audit_action="professional.import",
    audit_detail=lambda preview: f"{preview.count('create')} professionnel(s) ajouté(s)",
    render=_render,
    export_rows=p.export_professionals,
    export_name="professionnels",
    export_sheet="Professionnels",
)
tabular_io.add_import_routes(router, IMPORT, export_scope=CoordinatorScope)


@router.get("/t/{code}/professionnels/{pro_id}", response_class=HTMLResponse)
def professional_edit(request: Request, pro_id: int, scope: CoordinatorScope, session: SessionDep):
    pro = professional_or_404(session, scope, pro_id)
    return _form_page(request, session, scope, _form_of(pro), pro=pro)


@router.post("/t/{code}/professionnels/{pro_id}", response_class=HTMLResponse)
def professional_update(
    request: Request,
    pro_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedProfessional,
    _: None = CsrfChecked,
):
    pro = professional_or_404(session, scope, pro_id)
    try:
        p.update_professional(session, pro, _data(form))
    except d.Invalid as exc:
        session.rollback()
        pro = professional_or_404(session, scope, pro_id)
        return _form_page(request, session, scope, form, pro=pro, status=400, errors=exc.errors)
    commit_audited(session, scope, "professional.update", f"professionnel {pro.id}")
    return see_other(f"{workspace_url(scope, 'professionnels')}?fait=modifie")


def _status_change(request, session, scope, pro_id, change, action, notice):
    pro = professional_or_404(session, scope, pro_id)
    try:
        change(session, pro)
    except d.Refused as exc:
        session.rollback()
        pro = professional_or_404(session, scope, pro_id)
        return _form_page(
            request, session, scope, _form_of(pro), pro=pro, status=409,
            errors={"etat": exc.message},
        )  # fmt: skip
    commit_audited(session, scope, action, f"professionnel {pro.id}")
    return see_other(f"{workspace_url(scope, 'professionnels')}?fait={notice}")


@router.post("/t/{code}/professionnels/{pro_id}/depart", response_class=HTMLResponse)
def professional_leave(
    request: Request,
    pro_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    return _status_change(
        request, session, scope, pro_id, p.deactivate, "professional.deactivate", "parti"
    )


@router.post("/t/{code}/professionnels/{pro_id}/retour", response_class=HTMLResponse)
def professional_return(
    request: Request,
    pro_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    return _status_change(
        request, session, scope, pro_id, p.reactivate, "professional.reactivate", "retour"
    )
