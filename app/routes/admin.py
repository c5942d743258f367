"""Administrator pages: territories, accounts, audit log, every territory's headline figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import AdminUser, CsrfChecked, SessionDep, or_404, see_other
from app.params import small_int
from app.templating import templates
from reports import overview
from survey import accounts
from survey.accounts import ROLE_LABELS, User

router = APIRouter(prefix="/admin", include_in_schema=False)

Text = Annotated[str, Form(max_length=300)]


def _flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def _page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context["flash"] = request.session.pop("flash", None)
    context["role_labels"] = ROLE_LABELS
    return templates.TemplateResponse(request, template, context, status_code=status)


# --- territories ---------------------------------------------------------------------------


@router.get("/territoires", response_class=HTMLResponse)
def territories(request: Request, admin: AdminUser, session: SessionDep):
    return _page(
        request,
        "admin/territories.html",
        rows=accounts.territories_with_accounts(session),
        section="t",
    )


@router.post("/territoires", response_class=HTMLResponse, dependencies=[CsrfChecked])
def territory_create(
    request: Request, admin: AdminUser, session: SessionDep, code: Text = "", name: Text = ""
):
    try:
        territory = accounts.create_territory(session, code, name)
    except accounts.AccountError as exc:
        session.rollback()
        return _page(
            request,
            "admin/territories.html",
            400,
            rows=accounts.territories_with_accounts(session),
            section="t",
            errors={exc.field: exc.message},
            values={"code": code, "name": name},
        )
    accounts.commit_audited(
        session,
        admin,
        "territory.create",
        target=f"{territory.code} — {territory.name}",
        territory_id=territory.id,
    )
    _flash(request, f"Territoire {territory.code} — {territory.name} créé.")
    return see_other("/admin/territoires")


# --- accounts ------------------------------------------------------------------------------


def _accounts_page(request: Request, session, status: int = 200, **context) -> HTMLResponse:
    territories = accounts.list_territories(session)
    return _page(
        request,
        "admin/accounts.html",
        status,
        rows=accounts.list_users(session),
        territories=territories,
        section="c",
        **context,
    )


@router.get("/comptes", response_class=HTMLResponse)
def account_list(request: Request, admin: AdminUser, session: SessionDep):
    return _accounts_page(request, session)


@router.post("/comptes", response_class=HTMLResponse, dependencies=[CsrfChecked])
def account_create(
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    email: Text = "",
    full_name: Text = "",
    role: Text = "",
    territory: Text = "",
    password: Text = "",
):
    values = {"email": email, "full_name": full_name, "role": role, "territory": territory}
    try:
        found = accounts.territory_by_code(session, territory) if territory else None
        if territory and found is None:
            raise accounts.AccountError("Ce territoire n'existe pas.", "territory")
        user = accounts.create_user(session, email, password, role, found, full_name=full_name)
    except accounts.AccountError as exc:
        session.rollback()
        return _accounts_page(
            request, session, 400, errors={exc.field or "email": exc.message}, values=values
        )
    accounts.commit_audited(
        session,
        admin,
        "user.create",
        target=user.email,
        detail=f"rôle {user.role}",
        territory_id=user.territory_id,
    )
    _flash(request, f"Compte {user.email} créé. Transmettez-lui son mot de passe de vive voix.")
    return see_other("/admin/comptes")


def _user_or_404(session, user_id: int) -> User:
    return or_404(session.get(User, user_id), "Ce compte n'existe pas.")


@router.post("/comptes/{user_id}/actif", response_class=HTMLResponse, dependencies=[CsrfChecked])
def account_active(
    request: Request,
    user_id: int,
    admin: AdminUser,
    session: SessionDep,
    active: Annotated[bool, Form()] = False,
):
    user = _user_or_404(session, user_id)
    if user.id == admin.id and not active:
        _flash(request, "Vous ne pouvez pas désactiver votre propre compte.")
        return see_other("/admin/comptes")
    accounts.set_active(user, active)
    accounts.commit_audited(
        session,
        admin,
        "user.activate" if active else "user.deactivate",
        target=user.email,
        territory_id=user.territory_id,
    )
    _flash(request, f"Compte {user.email} {'réactivé' if active else 'désactivé'}.")
    return see_other("/admin/comptes")


@router.post(
    "/comptes/{user_id}/mot-de-passe", response_class=HTMLResponse, dependencies=[CsrfChecked]
)
def account_reset_password(
    request: Request, user_id: int, admin: AdminUser, session: SessionDep, new_password: Text = ""
):
    user = _user_or_404(session, user_id)
    try:
        accounts.set_password(user, new_password)
    except accounts.AccountError as exc:
        session.rollback()
        return _accounts_page(
            request,
            session,
            400,
            errors={f"new_password-{user.id}": exc.message},
            open_reset=user.id,
        )
    accounts.commit_audited(
        session, admin, "user.password_reset", target=user.email, territory_id=user.territory_id
    )
    _flash(request, f"Mot de passe de {user.email} réinitialisé ; ses sessions sont fermées.")
    return see_other("/admin/comptes")


# --- audit log -----------------------------------------------------------------------------


@router.get("/journal", response_class=HTMLResponse)
def audit_log(
    request: Request,
    admin: AdminUser,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
):
    return _page(request, "admin/journal.html", log=accounts.audit_page(session, page), section="j")


# --- every territory's headline figures ----------------------------------------------------

YearParam = Annotated[str | None, Query(max_length=10)]


def _figures_year(session, annee: str | None) -> tuple[int | None, list[int], str | None]:
    """(year asked or None for each territory's latest, frozen years, error message)."""
    years = overview.frozen_years(session)
    if annee is None or not annee.strip():
        return None, years, None
    year = small_int(annee, digits=4)
    if year is None:
        return None, years, f"Année « {annee} » invalide : choisissez une année dans la liste."
    if year not in years:
        return year, years, f"Aucune campagne close en {year} : choisissez une année dans la liste."
    return year, years, None


@router.get("/chiffres", response_class=HTMLResponse)
def figures(request: Request, admin: AdminUser, session: SessionDep, annee: YearParam = None):
    year, years, problem = _figures_year(session, annee)
    rows = [] if problem else overview.rows(session, year)
    return _page(
        request,
        "admin/figures.html",
        404 if problem else 200,
        rows=[(r, overview.formatted(r)) for r in rows],
        headers=overview.HEADERS,
        numeric=[c.kind not in ("text", "date") for c in overview.COLUMNS],
        years=years,
        year=year,
        problem=problem,
        unfrozen=overview.unfrozen_closed(session),
        section="f",
    )


@router.get("/chiffres.csv")
def figures_csv(admin: AdminUser, session: SessionDep, annee: YearParam = None):
    year, _, problem = _figures_year(session, annee)
    if problem:
        return Response(problem, status_code=404, media_type="text/plain; charset=utf-8")
    name = f"chiffres-cles-{year}.csv" if year else "chiffres-cles-dernieres-campagnes.csv"
    return Response(
        overview.csv_text(overview.rows(session, year)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
