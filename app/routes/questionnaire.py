"""The respondent's questionnaire page `/q/{token}`: works fully without JavaScript.

GET shows the current answers (submitted, draft, or carried forward from last year).
POST saves a draft, submits, or saves and adds empty partner slots, then redirects (PRG);
on a problem the page comes back (422) with everything typed and an error summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from app import forms
from app.db import SessionDep
from app.formhtml import PartnerOptions
from app.respondent import respondent_or_404
from app.templating import templates
from survey import vocab
from survey.directory import partner_groups, partner_names
from survey.models import Body, Organisation, Service
from survey.questionnaire import (
    MAX_LINKS,
    CampaignNotOpen,
    Problem,
    Respondent,
    current_answers,
    save,
    warnings_for,
)

router = APIRouter(include_in_schema=False)

UNREADABLE = (
    "Le formulaire envoyé est illisible (caractères mal encodés). Rien n'a été enregistré : "
    "revenez en arrière et réessayez."
)
TOO_LARGE = "Votre envoi est trop volumineux. Rien n'a été enregistré."
INCOMPLETE = (
    "Le formulaire est arrivé incomplet. Rien n'a été enregistré : revenez en arrière et réessayez."
)
WRONG_FORMAT = (
    "Ce formulaire n'a pas été envoyé dans le format attendu. Rien n'a été enregistré : "
    "revenez à la page du questionnaire et réessayez."
)


async def posted_pairs(request: Request) -> list[tuple[str, str]]:
    """The posted fields; 400/413 in French for anything that is not a readable form.

    Only the urlencoded form the page itself sends is accepted: it can be decoded strictly,
    whereas Starlette silently falls back to Latin-1 on bad UTF-8 in multipart bodies.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise HTTPException(status_code=400, detail=WRONG_FORMAT)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > forms.MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=TOO_LARGE)
    try:
        return forms.read_pairs(bytes(body))
    except forms.UnreadableForm:
        raise HTTPException(status_code=400, detail=UNREADABLE) from None


PostedPairs = Annotated[list[tuple[str, str]], Depends(posted_pairs)]


# --- view model ------------------------------------------------------------------------


@dataclass
class Card:
    """One partner as shown: the typed values plus what the page needs to show them."""

    slot: int
    link: forms.LinkForm
    name: str
    recap: str
    choose_partner: bool  # show the directory select (empty slot, or a problem with it)
    open: bool
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SummaryItem:
    target: str
    message: str


# Page order of the fields, so the error summary reads top to bottom like the page.
_TOP_ORDER = ["f-function", "f-years_in_post", "f-declared_partner_count", "f-links"]
_BOTTOM_ORDER = ["f-obstacles", "f-obstacle_other", "f-body_ids", "f-body_other", "f-comment"]
_CARD_ORDER = [
    "partner", "write_in_name", "write_in_type", "write_in_commune", "status", "nature",
    "frames", "channels", "frequency", "practices", "practice_other", "thematiques",
    "has_named_contact", "contact_name", "contact_consent", "quality",
]  # fmt: skip


def _page_rank(target: str) -> tuple[int, int, int]:
    if target in _TOP_ORDER:
        return (0, _TOP_ORDER.index(target), 0)
    if target in _BOTTOM_ORDER:
        return (2, _BOTTOM_ORDER.index(target), 0)
    slot, _, name = target[1:].partition("-")
    if target.startswith("l") and slot.isdigit():
        rank = _CARD_ORDER.index(name) if name in _CARD_ORDER else len(_CARD_ORDER)
        return (1, int(slot), rank)
    return (3, 0, 0)


def _names(
    session: Session, state: forms.FormState, territory_id: int
) -> tuple[dict[int, str], dict[int, str]]:
    return partner_names(
        session,
        territory_id,
        {lk.org_id for lk in state.links if lk.org_id},
        {lk.service_id for lk in state.links if lk.service_id},
    )


def _recap(link: forms.LinkForm) -> str:
    if link.status == "ended":
        return ""
    bits = [
        vocab.NATURES.get(link.nature, ""),
        vocab.FREQUENCIES.get(link.frequency, "").lower(),
        ", ".join(vocab.PRACTICES.get(p, "") for p in link.practices[:2]).lower(),
    ]
    if len(link.practices) > 2:
        bits[-1] += "…"
    return " · ".join(b for b in bits if b)


def _incomplete(link: forms.LinkForm) -> bool:
    return link.status != "ended" and not (
        link.nature and link.frequency and (link.practices or link.practice_other)
    )


def _cards(
    session: Session,
    territory_id: int,
    state: forms.FormState,
    errors: dict[str, list[str]],
    extra_slots: int,
) -> tuple[list[Card], list[Card]]:
    orgs, services = _names(session, state, territory_id)
    cards = []
    for slot, link in enumerate(state.links):
        prefix = f"l{slot}-"
        mine = {k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)}
        name = orgs.get(link.org_id, "") if link.org_id else link.write_in_name
        if name and link.service_id:
            name = f"{name} — {services.get(link.service_id, '')}"
        partner_problem = any(k.startswith(("partner", "write_in")) for k in mine)
        cards.append(
            Card(
                slot=slot,
                link=link,
                name=name or "Partenaire à choisir",
                recap=_recap(link),
                choose_partner=partner_problem or not name,
                open=bool(mine) or link.status == "pending" or _incomplete(link),
                errors=mine,
            )
        )
    start = len(state.links)
    empty = [
        Card(
            slot=start + i, link=forms.LinkForm(), name="", recap="", choose_partner=True, open=True
        )
        for i in range(max(0, min(extra_slots, MAX_LINKS - start)))
    ]
    return cards, empty


def _bodies(session: Session, r: Respondent, chosen: list[str]) -> list[Body]:
    chosen_ids = [int(b) for b in chosen if b.isdigit() and len(b) < 10]
    return list(
        session.exec(
            select(Body)
            .where(
                Body.territory_id == r.territory.id,
                col(Body.active) | col(Body.id).in_(chosen_ids),
            )
            .order_by(Body.name)
        )
    )


def _own_organisation(session: Session, r: Respondent) -> str:
    name = r.organisation.name
    if r.professional.service_id:
        service = session.get(Service, r.professional.service_id)
        if service is not None:
            name = f"{name} — {service.name}"
    return name


def _proposed_by_me(session: Session, r: Respondent) -> set[int]:
    return set(
        session.exec(
            select(Organisation.id).where(
                Organisation.territory_id == r.territory.id,
                Organisation.proposed_by_id == r.professional.id,
                Organisation.status == "proposed",
            )
        ).all()
    )


def _render(
    request: Request,
    session: Session,
    r: Respondent,
    state: forms.FormState,
    *,
    status_code: int = 200,
    problems: list[Problem] | None = None,
    slot_of: list[int] | None = None,
    notice: str = "",
    extra_slots: int = forms.EMPTY_SLOTS,
    warnings: list[str] | None = None,
    refusal: str = "",
) -> HTMLResponse:
    problems = problems or []
    errors: dict[str, list[str]] = {}
    summary: list[SummaryItem] = []
    for p in problems:
        target = forms.field_id(p.field, slot_of or [])
        errors.setdefault(target, []).append(p.message)
    cards, empty = _cards(session, r.territory.id, state, errors, extra_slots)
    by_slot = {c.slot: c for c in cards}
    for p in problems:
        target = forms.field_id(p.field, slot_of or [])
        card = by_slot.get(int(target[1:].split("-")[0])) if target.startswith("l") else None
        message = f"{card.name} : {p.message}" if card else p.message
        summary.append(SummaryItem(target, message))
    summary.sort(key=lambda item: _page_rank(item.target))
    bodies = _bodies(session, r, state.body_ids)
    include = _proposed_by_me(session, r) | {c.link.org_id for c in cards if c.link.org_id}
    context = {
        "r": r,
        "territory": r.territory,
        "campaign": r.campaign,
        "token": request.path_params["token"],
        "state": state,
        "cards": cards,
        "empty_slots": empty,
        "more_slots": len(empty) + forms.EMPTY_SLOTS,
        "partner_options": PartnerOptions(
            partner_groups(session, r.territory.id, include_ids=include)
        ),
        "bodies": bodies,
        "body_options": [(str(b.id), b.name) for b in bodies],
        "own_organisation": _own_organisation(session, r),
        "errors": errors,
        "summary": summary,
        "notice": notice,
        "warnings": warnings or [],
        "refusal": refusal,
        "has_carried": any(c.link.carried for c in cards),
        "submitted": r.response is not None and r.response.status == "submitted",
    }
    return templates.TemplateResponse(
        request, "questionnaire/page.html", context, status_code=status_code
    )


def _render_closed(
    request: Request, session: Session, r: Respondent, status_code: int = 200, refusal: str = ""
) -> HTMLResponse:
    answers, source = current_answers(session, r)
    state = forms.state_from_answers(answers)
    cards, _ = _cards(session, r.territory.id, state, {}, 0)
    body_names = dict(
        session.exec(
            select(Body.id, Body.name).where(col(Body.id).in_(answers.body_ids or [0]))
        ).all()
    )
    context = {
        "r": r,
        "territory": r.territory,
        "campaign": r.campaign,
        "state": state,
        "cards": cards,
        "own_organisation": _own_organisation(session, r),
        "bodies": [body_names[b] for b in answers.body_ids if b in body_names],
        "answered": source in ("draft", "submitted"),
        "refusal": refusal,
    }
    return templates.TemplateResponse(
        request, "questionnaire/readonly.html", context, status_code=status_code
    )


def _slots(request: Request) -> int:
    raw = request.query_params.get("emplacements", "")
    wanted = int(raw) if raw.isdigit() and len(raw) < 4 else forms.EMPTY_SLOTS
    return max(forms.EMPTY_SLOTS, min(wanted, MAX_LINKS))


def _pending_first(state: forms.FormState) -> forms.FormState:
    state.links.sort(key=lambda lk: lk.status != "pending")
    return state


# --- routes ----------------------------------------------------------------------------


@router.get("/q/{token}", response_class=HTMLResponse)
def questionnaire_page(token: str, request: Request, session: SessionDep) -> Response:
    r = respondent_or_404(session, token)
    if not r.can_write:
        return _render_closed(request, session, r)
    answers, source = current_answers(session, r)
    notice = ""
    if request.query_params.get("envoye"):
        notice = "sent"
    elif request.query_params.get("enregistre"):
        notice = "saved"
    return _render(
        request,
        session,
        r,
        _pending_first(forms.state_from_answers(answers)),
        notice=notice,
        extra_slots=_slots(request),
        warnings=warnings_for(answers) if source in ("draft", "submitted") else [],
    )


@router.post("/q/{token}", response_class=HTMLResponse)
def questionnaire_post(
    token: str, request: Request, session: SessionDep, pairs: PostedPairs
) -> Response:
    r = respondent_or_404(session, token)
    if not r.can_write:
        return _render_closed(request, session, r, 409, CampaignNotOpen(r.campaign).message)
    if (forms.END_MARKER, "1") not in pairs:
        # A truncated or forged body must not be saved as if the person had emptied the form.
        raise HTTPException(status_code=400, detail=INCOMPLETE)
    parsed = forms.parse(pairs)
    shown = next((v for k, v in pairs if k == "emplacements"), "")
    more = int(shown) if shown.isdigit() and len(shown) < 4 else forms.EMPTY_SLOTS
    if parsed.action == "more":
        more += forms.EMPTY_SLOTS
    if parsed.answers is None:
        return _render(
            request, session, r, parsed.state, status_code=422, problems=parsed.problems,
            slot_of=parsed.slot_of, extra_slots=more,
        )  # fmt: skip
    try:
        result = save(session, r, parsed.answers, submit=parsed.action == "submit")
    except CampaignNotOpen as exc:
        return _render_closed(request, session, r, 409, exc.message)
    if not result.ok:
        return _render(
            request, session, r, parsed.state, status_code=422, problems=result.problems,
            slot_of=parsed.slot_of, extra_slots=more, warnings=result.warnings,
        )  # fmt: skip
    if parsed.action == "submit":
        target = f"/q/{token}?envoye=1"
    elif parsed.action == "more":
        target = f"/q/{token}?enregistre=1&emplacements={more}#ajouter"
    else:
        target = f"/q/{token}?enregistre=1"
    return RedirectResponse(target, status_code=303)
