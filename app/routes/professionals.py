"""The professionals pages of a territory: `/t/{code}/professionnels...` (coordinators only:
names and e-mails are personal data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, select

from app.db import SessionDep
from app.routes import tabular_io
from app.security import CoordinatorScope, CsrfChecked, Scope, audit
from app.templating import templates
from survey import directory as d
from survey import professionals as p
from survey.models import Organisation, Professional, Service

router = APIRouter(include_in_schema=False)

NOTICES = {
    "ajoute": "La fiche a été ajoutée.",
    "modifie": "La fiche a été enregistrée.",
    "parti": "Le départ est enregistré : ses réponses passées restent comptées.",
    "retour": "La personne est de nouveau active.",
    "importe": "L'import est terminé.",
    # rgpd (helper J)
    "efface": "Les données personnelles sont effacées ; les réponses restent, sans nom.",
    # end rgpd (helper J)
}


def _base(scope: Scope) -> str:
    return f"/t/{scope.territory.code}/professionnels"


def _audit(session: Session, scope: Scope, action: str, target: str, detail: str = "") -> None:
    audit(
        session, scope.user, action, target=target, detail=detail, territory_id=scope.territory.id
    )


def _pro_or_404(session: Session, scope: Scope, pro_id: int) -> Professional:
    pro = p.get_professional(session, scope.territory.id, pro_id)
    if pro is None:
        raise HTTPException(
            status_code=404, detail="Cette personne n'existe pas dans ce territoire."
        )
    return pro


def _render(request: Request, template: str, scope: Scope, status: int = 200, **context):
    context.setdefault("errors", {})
    return templates.TemplateResponse(
        request,
        template,
        {"scope": scope, "section": "professionnels", **context},
        status_code=status,
    )


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
    org_id = int(structure) if structure.isdigit() else None
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
        organisations=_organisations(session, scope),
        notice=NOTICES.get(fait, ""),
        formats=tabular_io.EXPORT_FORMATS,
    )


def _organisations(session: Session, scope: Scope) -> list[Organisation]:
    return sorted(
        session.exec(
            select(Organisation).where(
                Organisation.territory_id == scope.territory.id,
                Organisation.status.in_(("active", "proposed")),
            )
        ).all(),
        key=lambda o: d.normalize_name(o.name),
    )


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
    return int(value) if value.isdigit() and len(value) < 10 else None


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
    orgs = _organisations(session, scope)
    services = session.exec(
        select(Service, Organisation.name)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(Organisation.territory_id == scope.territory.id, Service.active)
        .order_by(Organisation.name, Service.name)
    ).all()
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
    form["organisation_id"] = structure if structure.isdigit() else ""
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
    _audit(session, scope, "professional.create", f"professionnel {pro.id}")
    session.commit()
    return RedirectResponse(f"{_base(scope)}?fait=ajoute", status_code=303)


@router.get("/t/{code}/professionnels/import", response_class=HTMLResponse)
def import_form(request: Request, scope: CoordinatorScope):
    return _import_page(request, scope)


def _import_page(request: Request, scope: Scope, status: int = 200, **context):
    context.setdefault("preview", None)
    context.setdefault("upload_error", "")
    return _render(
        request,
        "directory/import.html",
        scope,
        status,
        kind="professionals",
        title="Importer des professionnels",
        action=f"{_base(scope)}/import",
        back=_base(scope),
        columns=p.PRO_COLUMNS,
        **context,
    )


@router.post(
    "/t/{code}/professionnels/import",
    response_class=HTMLResponse,
    dependencies=[Depends(tabular_io.upload_size_cap)],
)
async def import_upload(
    request: Request, scope: CoordinatorScope, session: SessionDep, _: None = CsrfChecked
):
    try:
        table, filename = await tabular_io.uploaded_table(request, p.PRO_ALIASES)
    except tabular_io.UploadProblem as exc:
        return _import_page(request, scope, exc.status, upload_error=exc.message)
    preview = p.preview_professional_import(session, scope.territory.id, table)
    payload = None
    if preview.ok:
        payload = tabular_io.pack(
            request.app.state.secret, "professionals", scope.territory.code, table
        )
        if payload is None:
            return _import_page(
                request,
                scope,
                413,
                upload_error="Ce fichier est trop long : découpez-le en plusieurs.",
            )
    return _import_page(
        request,
        scope,
        200 if preview.ok else 422,
        preview=preview,
        payload=payload,
        filename=filename,
    )


@router.post("/t/{code}/professionnels/import/confirmer", response_class=HTMLResponse)
def import_confirm(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    payload: Annotated[str, Form()] = "",
    filename: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    try:
        table = tabular_io.unpack(
            request.app.state.secret, "professionals", scope.territory.code, payload
        )
    except tabular_io.UploadProblem as exc:
        return _import_page(request, scope, exc.status, upload_error=exc.message)
    try:
        preview = p.apply_professional_import(session, scope.territory.id, table)
    except d.Refused:
        session.rollback()
        preview = p.preview_professional_import(session, scope.territory.id, table)
        return _import_page(request, scope, 409, preview=preview, filename=filename)
    _audit(
        session, scope, "professional.import", filename[:200] or "fichier",
        f"{preview.count('create')} professionnel(s) ajouté(s)",
    )  # fmt: skip
    session.commit()
    return RedirectResponse(f"{_base(scope)}?fait=importe", status_code=303)


@router.get("/t/{code}/professionnels/export")
def export(scope: CoordinatorScope, session: SessionDep, format: str = "csv"):
    headers, rows = p.export_professionals(session, scope.territory.id)
    return tabular_io.export_response(
        headers, rows, format, f"professionnels-{scope.territory.code}", "Professionnels"
    )


@router.get("/t/{code}/professionnels/{pro_id}", response_class=HTMLResponse)
def professional_edit(request: Request, pro_id: int, scope: CoordinatorScope, session: SessionDep):
    pro = _pro_or_404(session, scope, pro_id)
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
    pro = _pro_or_404(session, scope, pro_id)
    try:
        p.update_professional(session, pro, _data(form))
    except d.Invalid as exc:
        session.rollback()
        pro = _pro_or_404(session, scope, pro_id)
        return _form_page(request, session, scope, form, pro=pro, status=400, errors=exc.errors)
    _audit(session, scope, "professional.update", f"professionnel {pro.id}")
    session.commit()
    return RedirectResponse(f"{_base(scope)}?fait=modifie", status_code=303)


def _status_change(request, session, scope, pro_id, change, action, notice):
    pro = _pro_or_404(session, scope, pro_id)
    try:
        change(session, pro)
    except d.Refused as exc:
        session.rollback()
        pro = _pro_or_404(session, scope, pro_id)
        return _form_page(
            request, session, scope, _form_of(pro), pro=pro, status=409,
            errors={"etat": exc.message},
        )  # fmt: skip
    _audit(session, scope, action, f"professionnel {pro.id}")
    session.commit()
    return RedirectResponse(f"{_base(scope)}?fait={notice}", status_code=303)


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
