"""JSON API of the questionnaire: the same answers shape as the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from fastapi import APIRouter, Body, HTTPException, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.problems import Problems
from app.respondent import respondent_or_404
from survey import vocab
from survey.directory import partner_names
from survey.questionnaire import (
    Answers,
    CampaignNotOpen,
    LinkAnswer,
    NothingCarried,
    PartnerNames,
    Respondent,
    confirm_all_stored,
    current_answers,
    detached_respondent,
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


ERRORS = {
    400: {"model": Problems, "description": "Contenu illisible (JSON ou UTF-8 invalide)."},
    404: {"model": Problems, "description": "Lien inconnu ou révoqué."},
    409: {"model": Problems, "description": "Campagne close ou pas encore ouverte."},
    422: {"model": Problems, "description": "Réponses incorrectes : un message par champ."},
    429: {"model": Problems, "description": "Trop de liens inconnus essayés depuis cette adresse."},
}


def _out(
    session: Session,
    r: Respondent,
    stored: Answers | None = None,
    names: PartnerNames | None = None,
) -> dict:
    """The answers and their context, shaped as `QuestionnaireOut`. After a save, `stored`
    and `names` (from `SaveResult`) spare reading back what was just written."""
    if stored is not None and names is not None and r.response is not None:
        answers, source = stored, r.response.status
        org_names, svc_names = names.organisations, names.services
    else:
        answers, source = current_answers(session, r)
        org_names, svc_names = partner_names(
            session,
            r.territory.id,
            {lk.partner_organisation_id for lk in answers.links},
            {lk.partner_service_id for lk in answers.links if lk.partner_service_id},
        )
    out = answers.model_dump()
    for link in out["links"]:
        link["partner_name"] = org_names.get(link["partner_organisation_id"], "")
        link["partner_service_name"] = svc_names.get(link["partner_service_id"])
    response, campaign = r.response, r.campaign
    out |= {
        "source": source,
        "status": response.status if response else "not_started",
        "questionnaire_version": (
            response.questionnaire_version if response else vocab.QUESTIONNAIRE_VERSION
        ),
        "campaign": {
            "year": campaign.year,
            "status": campaign.status,
            "opens_on": campaign.opens_on,
            "closes_on": campaign.closes_on,
        },
        "respondent": {"full_name": r.professional.full_name, "organisation": r.organisation.name},
        "can_write": r.can_write,
        "submitted_at": response.submitted_at if response else None,
        "warnings": warnings_for(answers),
    }
    return out


def _json(out: dict) -> Response:
    # Serialised by pydantic-core straight from plain data (same formats as the models);
    # returning a Response spares FastAPI validating it again against `response_model`, which
    # still documents the shape in OpenAPI (tests/test_fuzz_api.py checks every answer
    # against it, tests/test_questionnaire_stored.py that reads and saves answer alike).
    return Response(to_json(out), media_type="application/json")


async def _run(request: Request, work: Callable[[Session], Response]) -> Response:
    """Run `work` with a session of its own, which keeps loaded objects after commit
    (`expire_on_commit=False`) so that the answer is built without reloading them. On
    PostgreSQL its statements run in autocommit (`survey.db.autocommit`): a first answer is
    the look-up and one write, with no BEGIN and COMMIT between them.

    On PostgreSQL the work runs right here, on the event loop: these requests are a few
    milliseconds of CPU and bounded waits (indexed statements; the app's connections have a
    `lock_timeout`), and handing them to a worker thread cost a third of the CPU of a request
    under load (GIL hand-offs; measured in bench/load.py, docs/performance.md). Concurrency
    comes from server processes (`carte serve --workers`, one per CPU). On SQLite a writer may
    wait up to the busy timeout for another process's lock, so the work goes to a thread and
    the event loop stays free."""

    def run() -> Response:
        with Session(request.app.state.api_engine, expire_on_commit=False) as session:
            return work(session)

    if request.app.state.inline_db:
        return run()
    return await run_in_threadpool(run)


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
async def read_answers(token: str, request: Request) -> Response:
    """Les réponses actuelles : envoyées, brouillon, ou reprises de l'an dernier."""

    def work(session: Session) -> Response:
        return _json(_out(session, _respondent(session, token)))

    return await _run(request, work)


def _respondent(session: Session, token: str, answers: Answers | None = None) -> Respondent:
    """The link's respondent in one Core query, with the answers' partners from the directory
    (`detached_respondent`); an unknown link goes through `respondent_or_404` (404, throttle)."""
    partner_ids = (
        {a.partner_organisation_id for a in answers.links if a.partner_organisation_id}
        if answers
        else None
    )
    return detached_respondent(session, token, partner_ids) or respondent_or_404(session, token)


def _saved(session: Session, token: str, answers: Answers | None, submit: bool) -> Response:
    """Save (or, without answers, submit what is stored) and answer with the result."""
    r = _respondent(session, token, answers)
    try:
        result = save(session, r, answers, submit=submit) if answers else submit_stored(session, r)
    except CampaignNotOpen as exc:
        raise _refuse(exc) from None
    if not result.ok:
        raise _unprocessable(result.problems)
    return _json(_out(session, r, result.stored, result.names))


@router.put("/{token}", response_model=QuestionnaireOut, responses=ERRORS)
async def save_draft(token: str, answers: Answers, request: Request) -> Response:
    """Enregistrer un brouillon (une réponse déjà envoyée reste envoyée et doit rester complète)."""
    return await _run(request, lambda session: _saved(session, token, answers, submit=False))


@router.post("/{token}/submit", response_model=QuestionnaireOut, responses=ERRORS)
async def submit(
    token: str, request: Request, answers: Answers | None = Body(default=None)
) -> Response:
    """Envoyer : les réponses jointes, ou à défaut celles déjà enregistrées. Il faut au moins
    un partenaire qui ne soit pas « Plus de contact » (`status` « ended »), ou bien
    `declared_partner_count` à 0 : « aucun partenaire » se dit explicitement. Un
    `declared_partner_count` plus petit que le nombre de ces partenaires est refusé (422) ;
    plus grand, il est gardé (un nombre approximatif suffit) ; absent, il vaut ce nombre."""
    return await _run(request, lambda session: _saved(session, token, answers, submit=True))


@router.post("/{token}/confirm-all", response_model=QuestionnaireOut, responses=ERRORS)
async def confirm_everything(token: str, request: Request) -> Response:
    """« Tout est comme l'an dernier » : confirme d'un coup chaque partenaire repris de l'an
    dernier qui n'a pas encore de réponse (les choix déjà faits sont gardés) et enregistre un
    brouillon, sans l'envoyer. 422 quand aucun partenaire ne vient de l'an dernier (rien
    n'est écrit), 409 quand la campagne n'est pas ouverte."""

    def work(session: Session) -> Response:
        r = _respondent(session, token)
        try:
            result = confirm_all_stored(session, r)
        except CampaignNotOpen as exc:
            raise _refuse(exc) from None
        except NothingCarried as exc:
            raise HTTPException(
                status_code=422,
                detail={
                    "detail": exc.message,
                    "errors": [{"field": "links", "message": exc.message}],
                },
            ) from None
        if not result.ok:
            raise _unprocessable(result.problems)
        return _json(_out(session, r, result.stored, result.names))

    return await _run(request, work)
