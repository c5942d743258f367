"""RGPD pages.

Respondent side, behind the personal link like the questionnaire:
`/q/{token}/mes-donnees` (what is stored, download, erasure), `/q/{token}/mes-donnees.json`,
POST `/q/{token}/mes-donnees/effacer` (erases at once after an explicit confirmation and
shows the result; see docs/rgpd.md for why).
Coordinator side: `/t/{code}/professionnels/{id}/effacer` (confirmation page and POST).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func
from sqlmodel import select

from app.deps import (
    CoordinatorScope,
    CsrfChecked,
    SessionDep,
    professional_or_404,
    see_other,
    workspace_url,
)
from app.respondent import respondent_or_404
from app.templating import templates
from survey import privacy
from survey.models import Campaign, DeclaredLink
from survey.models import Response as SurveyResponse

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
CONFIRM_MISSING = (
    "Cochez la case pour confirmer l'effacement : il est définitif. Rien n'a été effacé."
)


def _held(session, professional_id: int) -> list[dict]:
    """Per campaign: year, status and number of partners, for the summary table."""
    rows = session.exec(
        select(Campaign.year, SurveyResponse.status, func.count(DeclaredLink.id))
        .select_from(SurveyResponse)
        .join(Campaign, Campaign.id == SurveyResponse.campaign_id)
        .join(DeclaredLink, DeclaredLink.response_id == SurveyResponse.id, isouter=True)
        .where(SurveyResponse.professional_id == professional_id)
        .group_by(Campaign.year, SurveyResponse.status)
        .order_by(Campaign.year)
    ).all()
    return [{"year": y, "submitted": s == "submitted", "partners": n} for y, s, n in rows]


def _page(request: Request, session, token: str, status: int = 200, error: str = ""):
    r = respondent_or_404(session, token)
    context = {
        "r": r,
        "territory": r.territory,
        "token": token,
        "held": _held(session, r.professional.id),
        "service": r.professional.service_id,
        "error": error,
        "retention_months": request.app.state.settings.personal_data_retention_months,
    }
    return templates.TemplateResponse(
        request, "rgpd/my_data.html", context, status_code=status, headers=NO_STORE
    )


@router.get("/q/{token}/mes-donnees", response_class=HTMLResponse)
def my_data(token: str, request: Request, session: SessionDep):
    return _page(request, session, token)


@router.get("/q/{token}/mes-donnees.json")
def my_data_json(token: str, session: SessionDep):
    r = respondent_or_404(session, token)
    data = privacy.export_own_data(session, r.professional)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": 'attachment; filename="mes-donnees-carte-partenariale.json"',
        },
    )


@router.post("/q/{token}/mes-donnees/effacer", response_class=HTMLResponse)
def erase_mine(
    token: str,
    request: Request,
    session: SessionDep,
    confirmation: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    r = respondent_or_404(session, token)
    if confirmation != "oui":
        return _page(request, session, token, status=422, error=CONFIRM_MISSING)
    privacy.erase_professional(session, r.professional, "la personne elle-même (lien personnel)")
    session.commit()
    # Shown directly rather than after a redirect: the link is dead now, and a reload
    # of this POST answers 404 without erasing anything twice.
    return templates.TemplateResponse(request, "rgpd/erased.html", {}, headers=NO_STORE)


# --- coordinator side ----------------------------------------------------------------------


def _confirm_page(request, session, scope, pro, status: int = 200, error: str = ""):
    context = {
        "scope": scope,
        "section": "professionnels",
        "pro": pro,
        "erased": privacy.is_erased(pro),
        "held": _held(session, pro.id),
        "error": error,
    }
    return templates.TemplateResponse(
        request, "rgpd/erase_confirm.html", context, status_code=status
    )


@router.get("/t/{code}/professionnels/{pro_id}/effacer", response_class=HTMLResponse)
def erase_confirm(request: Request, pro_id: int, scope: CoordinatorScope, session: SessionDep):
    return _confirm_page(request, session, scope, professional_or_404(session, scope, pro_id))


@router.post("/t/{code}/professionnels/{pro_id}/effacer", response_class=HTMLResponse)
def erase_by_coordinator(
    request: Request,
    pro_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    confirmation: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    pro = professional_or_404(session, scope, pro_id)
    if confirmation != "oui":
        return _confirm_page(request, session, scope, pro, status=422, error=CONFIRM_MISSING)
    privacy.erase_professional(
        session, pro, f"coordination ({scope.user.email}), à la demande de la personne",
        user=scope.user,
    )  # fmt: skip
    session.commit()
    return see_other(f"{workspace_url(scope, 'professionnels')}?etat=tous&fait=efface")
