"""JSON API of the questionnaire: the same answers shape as the page."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel
from sqlmodel import Session

from app.db import SessionDep
from app.respondent import respondent_or_404
from survey import vocab
from survey.directory import partner_names
from survey.questionnaire import (
    Answers,
    CampaignNotOpen,
    LinkAnswer,
    Respondent,
    current_answers,
    save,
    submit_stored,
    warnings_for,
)

router = APIRouter(prefix="/api/v1/questionnaire", tags=["questionnaire"])


class CampaignInfo(BaseModel):
    year: int
    status: str
    opens_on: date | None
    closes_on: date | None


class RespondentInfo(BaseModel):
    full_name: str
    organisation: str


class LinkOut(LinkAnswer):
    partner_name: str = ""
    partner_service_name: str | None = None


class QuestionnaireOut(Answers):
    """Current answers plus read-only context (ignored when sent back with PUT)."""

    links: list[LinkOut]
    source: str  # submitted | draft | carried | empty
    status: str  # submitted | draft | not_started
    questionnaire_version: str
    campaign: CampaignInfo
    respondent: RespondentInfo
    can_write: bool
    submitted_at: datetime | None = None
    warnings: list[str] = []


class Problems(BaseModel):
    detail: str
    errors: list[dict[str, str]] = []


ERRORS = {
    400: {"model": Problems, "description": "Contenu illisible (JSON ou UTF-8 invalide)."},
    404: {"model": Problems, "description": "Lien inconnu ou révoqué."},
    409: {"model": Problems, "description": "Campagne close ou pas encore ouverte."},
    422: {"model": Problems, "description": "Réponses incorrectes : un message par champ."},
    429: {"model": Problems, "description": "Trop de liens inconnus essayés depuis cette adresse."},
}


def _out(session: Session, r: Respondent) -> QuestionnaireOut:
    answers, source = current_answers(session, r)
    org_names, svc_names = partner_names(
        session,
        r.territory.id,
        {lk.partner_organisation_id for lk in answers.links},
        {lk.partner_service_id for lk in answers.links if lk.partner_service_id},
    )
    data = answers.model_dump()
    data["links"] = [
        LinkOut(
            **lk.model_dump(),
            partner_name=org_names.get(lk.partner_organisation_id, ""),
            partner_service_name=svc_names.get(lk.partner_service_id),
        )
        for lk in answers.links
    ]
    return QuestionnaireOut(
        **data,
        source=source,
        status=r.response.status if r.response else "not_started",
        questionnaire_version=(
            r.response.questionnaire_version if r.response else vocab.QUESTIONNAIRE_VERSION
        ),
        campaign=CampaignInfo(
            year=r.campaign.year,
            status=r.campaign.status,
            opens_on=r.campaign.opens_on,
            closes_on=r.campaign.closes_on,
        ),
        respondent=RespondentInfo(
            full_name=r.professional.full_name, organisation=r.organisation.name
        ),
        can_write=r.can_write,
        submitted_at=r.response.submitted_at if r.response else None,
        warnings=warnings_for(answers),
    )


def _refuse(exc: CampaignNotOpen) -> HTTPException:
    return HTTPException(status_code=409, detail=exc.message)


def _unprocessable(problems) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail={
            "detail": "Certaines réponses sont incorrectes ou manquent.",
            "errors": [p.as_dict() for p in problems],
        },
    )


@router.get("/{token}", response_model=QuestionnaireOut, responses=ERRORS)
def read_answers(token: str, session: SessionDep) -> QuestionnaireOut:
    """Les réponses actuelles : envoyées, brouillon, ou reprises de l'an dernier."""
    return _out(session, respondent_or_404(session, token))


@router.put("/{token}", response_model=QuestionnaireOut, responses=ERRORS)
def save_draft(token: str, answers: Answers, session: SessionDep) -> QuestionnaireOut:
    """Enregistrer un brouillon (une réponse déjà envoyée reste envoyée et doit rester complète)."""
    r = respondent_or_404(session, token)
    try:
        result = save(session, r, answers, submit=False)
    except CampaignNotOpen as exc:
        raise _refuse(exc) from None
    if not result.ok:
        raise _unprocessable(result.problems)
    return _out(session, r)


@router.post("/{token}/submit", response_model=QuestionnaireOut, responses=ERRORS)
def submit(
    token: str, session: SessionDep, answers: Answers | None = Body(default=None)
) -> QuestionnaireOut:
    """Envoyer : les réponses jointes, ou à défaut celles déjà enregistrées."""
    r = respondent_or_404(session, token)
    try:
        result = save(session, r, answers, submit=True) if answers else submit_stored(session, r)
    except CampaignNotOpen as exc:
        raise _refuse(exc) from None
    if not result.ok:
        raise _unprocessable(result.problems)
    return _out(session, r)
