"""Resolving a personal link to its respondent, shared by the page and the API."""

from __future__ import annotations

from fastapi import HTTPException

from survey import links
from survey.questionnaire import Respondent, load_respondent

UNKNOWN_LINK = (
    "Ce lien n'est pas (ou plus) valable. Il a peut-être été remplacé par un nouveau lien : "
    "demandez-le à la personne qui coordonne l'enquête."
)


def respondent_or_404(session, token: str) -> Respondent:
    invitation = links.find(session, token)
    if invitation is None:
        raise HTTPException(status_code=404, detail=UNKNOWN_LINK)
    return load_respondent(session, invitation)
