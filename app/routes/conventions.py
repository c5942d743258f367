"""The official partnerships of a territory: `/t/{code}/conventions...`.

Viewers read the list, a convention's page and the export; coordinators create, edit,
archive, restore and import. Every change is a POST with CSRF, an audit event and one
commit; an invalid form is shown again with what was typed and French messages.
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
from survey import conventions as cv
from survey import vocab
from survey.directory import Invalid, Refused
from survey.models import Convention

router = APIRouter(include_in_schema=False)

NOTICES = {
    "creee": "La convention a été enregistrée.",
    "modifiee": "La convention a été modifiée.",
    "archivee": "La convention a été archivée : elle ne compte plus dans les comparaisons.",
    "reactivee": "La convention a été réactivée.",
    "importe": "L'import est terminé.",
}
MAX_PARTIES = 500

_render = partial(workspace_page, "coordination")


def _base(scope: Scope) -> str:
    return workspace_url(scope, "conventions")


def _convention_or_404(session: Session, scope: Scope, convention_id: int) -> Convention:
    return or_404(
        cv.get_convention(session, scope.territory.id, convention_id),
        "Cette convention n'existe pas dans ce territoire.",
    )


def _detail(convention: Convention) -> str:
    return f"{vocab.CONVENTION_KINDS.get(convention.kind, convention.kind)} « {convention.title} »"


# --- list ----------------------------------------------------------------------------------


@router.get("/t/{code}/conventions", response_class=HTMLResponse)
def convention_list(
    request: Request, scope: ViewerScope, session: SessionDep, statut: str = "", fait: str = ""
):
    archived = statut == "archivees"
    return _render(
        request,
        "conventions/list.html",
        scope,
        rows=cv.list_conventions(session, scope.territory.id, active=not archived),
        archived=archived,
        notice=NOTICES.get(fait, ""),
        formats=tabular_io.EXPORT_FORMATS,
        format_date=cv.format_date,
    )


# --- the form ------------------------------------------------------------------------------


def _read_form(
    kind: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    starts_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "",
    parties: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> cv.ConventionData | None:
    """The posted convention, or None when a party is no id at all (a forged form)."""
    ids = [small_int(p) for p in parties[: MAX_PARTIES + 1]]
    if len(ids) > MAX_PARTIES or any(i is None for i in ids):
        return None
    return cv.ConventionData(
        kind=kind[:40],
        title=title[:1000],
        reference=reference[:1000],
        starts_on=starts_on[:40],
        ends_on=ends_on[:40],
        parties=[i for i in ids if i is not None],
    )


PostedConvention = Annotated[cv.ConventionData | None, Depends(_read_form)]
UNREADABLE = {"parties": "La liste des structures choisies est illisible : recommencez."}


def _form_page(
    request: Request,
    session: Session,
    scope: Scope,
    form: cv.ConventionData,
    convention: Convention | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
):
    return _render(
        request,
        "conventions/form.html",
        scope,
        status,
        form=form,
        convention=convention,
        groups=cv.party_choices(session, scope.territory.id),
        errors=errors or {},
    )


@router.get("/t/{code}/conventions/nouvelle", response_class=HTMLResponse)
def convention_new(request: Request, scope: CoordinatorScope, session: SessionDep):
    return _form_page(request, session, scope, cv.ConventionData())


@router.post("/t/{code}/conventions/nouvelle", response_class=HTMLResponse)
def convention_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedConvention,
    _: None = CsrfChecked,
):
    if form is None:
        return _form_page(
            request, session, scope, cv.ConventionData(), status=400, errors=UNREADABLE
        )
    try:
        convention = cv.create_convention(session, scope.territory.id, form)
    except Invalid as exc:
        session.rollback()
        return _form_page(request, session, scope, form, status=400, errors=exc.errors)
    commit_audited(
        session, scope, "convention.create", f"convention {convention.id}", _detail(convention)
    )
    return see_other(f"{_base(scope)}/{convention.id}?fait=creee")


# --- import and export ---------------------------------------------------------------------


IMPORT = tabular_io.ImportFlow(
    kind="conventions",
    title="Importer des conventions",
    path="/t/{code}/conventions",
    columns=cv.CONVENTION_COLUMNS,
    aliases=cv.CONVENTION_ALIASES,
    check=cv.preview_convention_import,
    write=cv.apply_convention_import,
    audit_action="convention.import",
    audit_detail=lambda p: f"{p.count('create')} créée(s), {p.count('update')} mise(s) à jour",
    render=_render,
    export_rows=cv.export_conventions,
    export_name="conventions",
    export_sheet="Conventions",
    hints=(
        "« type », « debut » et « parties » sont obligatoires ; « intitule », « reference » "
        "et « fin » sont facultatifs.",
        "« type » : convention, protocole, charte ou autre accord.",
        "« debut » et « fin » : des dates jj/mm/aaaa (ou aaaa-mm-jj) ; la fin ne peut pas "
        "précéder le début.",
        "« parties » : les noms des structures signataires, au moins deux, séparés par « | », "
        "écrits comme dans le répertoire (majuscules et accents indifférents).",
        "Une ligne de même type, mêmes parties et même date de début qu'une convention déjà "
        "enregistrée la met à jour ; les autres lignes créent des conventions.",
    ),
    summary=cv.import_summary,
)
tabular_io.add_import_routes(router, IMPORT, export_scope=ViewerScope)


# --- one convention ------------------------------------------------------------------------


@router.get("/t/{code}/conventions/{convention_id}", response_class=HTMLResponse)
def convention_page(
    request: Request,
    convention_id: int,
    scope: ViewerScope,
    session: SessionDep,
    fait: str = "",
):
    convention = _convention_or_404(session, scope, convention_id)
    return _render(
        request,
        "conventions/detail.html",
        scope,
        convention=convention,
        kind_label=vocab.CONVENTION_KINDS.get(convention.kind, convention.kind),
        parties=cv.parties_of(session, convention),
        notice=NOTICES.get(fait, ""),
        format_date=cv.format_date,
    )


@router.get("/t/{code}/conventions/{convention_id}/modifier", response_class=HTMLResponse)
def convention_edit(
    request: Request, convention_id: int, scope: CoordinatorScope, session: SessionDep
):
    convention = _convention_or_404(session, scope, convention_id)
    return _form_page(request, session, scope, cv.form_data(session, convention), convention)


@router.post("/t/{code}/conventions/{convention_id}/modifier", response_class=HTMLResponse)
def convention_update(
    request: Request,
    convention_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    form: PostedConvention,
    _: None = CsrfChecked,
):
    convention = _convention_or_404(session, scope, convention_id)
    if form is None:
        return _form_page(
            request, session, scope, cv.form_data(session, convention), convention, 400, UNREADABLE
        )
    try:
        cv.update_convention(session, convention, form)
    except Invalid as exc:
        session.rollback()
        convention = _convention_or_404(session, scope, convention_id)
        return _form_page(request, session, scope, form, convention, 400, exc.errors)
    commit_audited(
        session, scope, "convention.update", f"convention {convention.id}", _detail(convention)
    )
    return see_other(f"{_base(scope)}/{convention.id}?fait=modifiee")


def _status_change(session, scope, convention_id, change, action, notice):
    convention = _convention_or_404(session, scope, convention_id)
    try:
        change(session, convention)
    except Refused:
        # Already in the asked state (a second click): nothing to do, show the page.
        session.rollback()
        return see_other(f"{_base(scope)}/{convention_id}")
    commit_audited(session, scope, action, f"convention {convention.id}", _detail(convention))
    return see_other(f"{_base(scope)}/{convention.id}?fait={notice}")


@router.post("/t/{code}/conventions/{convention_id}/archiver", response_class=HTMLResponse)
def convention_archive(
    convention_id: int, scope: CoordinatorScope, session: SessionDep, _: None = CsrfChecked
):
    return _status_change(
        session, scope, convention_id, cv.archive_convention, "convention.archive", "archivee"
    )


@router.post("/t/{code}/conventions/{convention_id}/reactiver", response_class=HTMLResponse)
def convention_restore(
    convention_id: int, scope: CoordinatorScope, session: SessionDep, _: None = CsrfChecked
):
    return _status_change(
        session, scope, convention_id, cv.restore_convention, "convention.restore", "reactivee"
    )
