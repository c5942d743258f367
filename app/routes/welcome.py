"""`/q/{token}/accueil`: the welcome sheet (« Fiche d'accueil ») of whoever takes over a post
or joins a structure, as a printable page and as a PDF (`/q/{token}/accueil.pdf`).

Through the personal link, like every `/q/{token}/…` page: same 404 (and throttle) for
unknown or revoked links. It works for any valid link (it is the holder's own structure's
information); the questionnaire page offers it only to newcomers. The content comes from
survey.welcome: no professional's name, contacts only with their consent.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import SessionDep
from app.respondent import respondent_or_404
from app.templating import templates
from survey.welcome import welcome_sheet

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/q/{token}/accueil", response_class=HTMLResponse)
def welcome_page(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    r = respondent_or_404(session, token)
    context = {
        "sheet": welcome_sheet(session, r.professional),
        "token": token,
        "campaign": r.campaign,
        "today": date.today(),
    }
    return templates.TemplateResponse(request, "welcome/sheet.html", context, headers=NO_STORE)


@router.get("/q/{token}/accueil.pdf")
def welcome_pdf(token: str, session: SessionDep) -> Response:
    from reports import welcome_pdf as pdf  # ReportLab loads only when a PDF is asked for

    r = respondent_or_404(session, token)
    data = pdf.render(welcome_sheet(session, r.professional))
    return Response(
        data,
        media_type="application/pdf",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="fiche-accueil.pdf"'},
    )
