"""The respondent's read-only directory `/q/{token}/repertoire`, reached through the personal
link: the structures of their territory, searchable by name, type and thématique."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.respondent import respondent_or_404
from app.templating import templates
from survey import directory, vocab

router = APIRouter(include_in_schema=False)


@router.get("/q/{token}/repertoire", response_class=HTMLResponse)
def respondent_directory(
    request: Request,
    token: str,
    session: SessionDep,
    q: str = "",
    type: str = "",
    thematique: str = "",
):
    r = respondent_or_404(session, token)
    type_code = type if type in vocab.ORG_TYPES else ""
    theme = thematique if thematique in vocab.THEMATIQUES else ""
    entries = directory.public_directory(
        session, r.territory.id, q=q[:200], type=type_code, thematique=theme
    )
    response = templates.TemplateResponse(
        request,
        "directory/respondent.html",
        {
            "territory": r.territory,
            "token": token,
            "entries": entries,
            "q": q[:200],
            "type": type_code,
            "thematique": theme,
        },
    )
    # The address holds a personal link: keep it out of caches and referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
