"""The respondent's read-only directory `/q/{token}/repertoire`, reached through the personal
link: the structures of their territory, searchable by name (of a structure or of a contact
who agreed to be listed), type, thématique, and by need (« qui peut m'aider pour… »)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep
from app.respondent import respondent_or_404
from app.templating import templates
from survey import directory, text, vocab

router = APIRouter(include_in_schema=False)

MAX_SEARCH = 200  # characters: a name or a few words, never a pasted document
SEARCH_LABELS = {"q": "Rechercher", "besoin": "Qui peut m'aider pour…"}


def _problems(values: dict[str, str]) -> dict[str, str]:
    """French refusal per search field: too long, or holding an invisible character."""
    errors = {}
    for name, label in SEARCH_LABELS.items():
        value = values[name]
        if len(value) > MAX_SEARCH:
            errors[name] = (
                f"« {label} » est trop long ({len(value)} caractères) : "
                f"{MAX_SEARCH} caractères au plus, quelques mots suffisent."
            )
        elif found := text.problem(value, label):
            errors[name] = found
    return errors


@router.get("/q/{token}/repertoire", response_class=HTMLResponse)
def respondent_directory(
    request: Request,
    token: str,
    session: SessionDep,
    q: str = "",
    type: str = "",
    thematique: str = "",
    besoin: str = "",
):
    r = respondent_or_404(session, token)
    type_code = type if type in vocab.ORG_TYPES else ""
    theme = thematique if thematique in vocab.THEMATIQUES else ""
    errors = _problems({"q": q, "besoin": besoin})
    entries = []
    if not errors:
        entries = directory.public_directory(
            session, r.territory.id, q=q, type=type_code, thematique=theme, need=besoin
        )
    response = templates.TemplateResponse(
        request,
        "directory/respondent.html",
        {
            "territory": r.territory,
            "token": token,
            "entries": entries,
            # A refused value is not echoed back in full: the field says what to fix.
            "q": "" if "q" in errors else q,
            "besoin": "" if "besoin" in errors else besoin,
            "type": type_code,
            "thematique": theme,
            "errors": errors,
        },
        status_code=400 if errors else 200,
    )
    # The address holds a personal link: keep it out of caches and referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
