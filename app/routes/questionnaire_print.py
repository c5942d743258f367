"""Printing through the personal link: « Mes réponses » and a blank paper questionnaire.

- `/q/{token}/imprimer`: the respondent's current answers (submitted, draft, or carried
  forward from last year) as a read-only page made for paper;
- `/q/{token}/version-papier`: the yearly questionnaire, blank, for those who prefer to
  answer on paper and hand it to the person who coordinates the survey. Nothing personal is
  printed on it: the name is left blank, so the sheet can be photocopied for colleagues.

Same 404 (and throttle) as every other `/q/{token}/…` page for unknown or revoked links.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.partner_cards import render_readonly
from app.respondent import respondent_or_404
from app.templating import templates
from survey import vocab
from survey.questionnaire import bodies_to_show

router = APIRouter(include_in_schema=False)

PAPER_ROWS = 10  # blank partner rows on the paper questionnaire
COMMENT_LINES = 5
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/q/{token}/imprimer", response_class=HTMLResponse)
def print_my_answers(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    r = respondent_or_404(session, token)
    # The read-only view of a closed campaign already gathers the current answers (partner
    # names, chosen bodies, own structure): reuse its context rather than a copy of it.
    answers = render_readonly(request, session, r).context
    context = {
        **{k: v for k, v in answers.items() if k != "request"},
        "token": token,
        "status": r.response.status if r.response is not None else "",
        "today": date.today(),
    }
    return templates.TemplateResponse(
        request, "questionnaire/print.html", context, headers=NO_STORE
    )


@router.get("/q/{token}/version-papier", response_class=HTMLResponse)
def paper_questionnaire(token: str, request: Request, session: SessionDep) -> HTMLResponse:
    r = respondent_or_404(session, token)
    context = {
        "territory": r.territory,
        "campaign": r.campaign,
        "token": token,
        "bodies": [b.name for b in bodies_to_show(session, r.territory.id)],
        "practices": list(vocab.PRACTICES.values()),
        "rows": range(1, PAPER_ROWS + 1),
        "comment_lines": range(COMMENT_LINES),
    }
    return templates.TemplateResponse(request, "questionnaire/paper.html", context)
