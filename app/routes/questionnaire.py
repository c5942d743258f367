"""The respondent's questionnaire page `/q/{token}`: works fully without JavaScript.

GET shows the current answers (submitted, draft, or carried forward from last year).
POST saves a draft, submits, or saves and adds empty partner slots, then redirects (PRG);
on a problem the page comes back (422) with everything typed and an error summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app import forms
from app.db import SessionDep
from app.formhtml import PartnerDatalist
from app.params import small_int
from app.partner_cards import own_organisation, partner_cards, render_readonly
from app.respondent import respondent_or_404
from app.templating import templates
from survey import timing
from survey.directory import partner_entries
from survey.questionnaire import (
    MAX_LINKS,
    UNVERIFIED,
    CampaignNotOpen,
    NothingCarried,
    Problem,
    Respondent,
    bodies_to_show,
    check,
    confirm_all,
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
class SummaryItem:
    target: str
    message: str


# Page order of the fields, so the error summary reads top to bottom like the page.
_TOP_ORDER = ["f-links", "f-declared_partner_count"]
_BOTTOM_ORDER = [
    "f-function", "f-years_in_post", "f-obstacles", "f-obstacle_other", "f-body_ids",
    "f-body_other", "f-comment",
]  # fmt: skip
_CARD_ORDER = [
    "partner", "write_in_name", "write_in_type", "write_in_commune", "status", "nature",
    "practices", "practice_other", "frames", "channels", "frequency", "thematiques",
    "has_named_contact", "contact_name", "contact_consent", "quality",
]  # fmt: skip


_EDIT_NOT_SHOWN = forms.EDIT_NOT_SHOWN.format(partner="ce partenaire")


def _page_rank(target: str) -> tuple[int, int, int]:
    if target in _TOP_ORDER:
        return (1, _TOP_ORDER.index(target), 0)
    if target in _BOTTOM_ORDER:
        return (2, _BOTTOM_ORDER.index(target), 0)
    slot, _, name = target[1:].partition("-")
    if target.startswith("l") and slot.isdecimal():
        rank = _CARD_ORDER.index(name) if name in _CARD_ORDER else len(_CARD_ORDER)
        return (0, int(slot), rank)
    return (3, 0, 0)


@dataclass
class Progress:
    """Carried partners looked at (confirmed, changed or ended) out of all carried."""

    done: int
    total: int

    @property
    def text(self) -> str:
        s = "s" if self.done > 1 else ""
        return f"{self.done} partenaire{s} sur {self.total} vérifié{s}"


def _merge_unverified(summary: list[SummaryItem]) -> list[SummaryItem]:
    """Partners of last year not yet looked at make one line of the summary, not fifteen."""
    unverified = [
        i
        for i in summary
        if i.target.startswith("l")
        and i.target.endswith("-status")
        and i.message.endswith(UNVERIFIED)
    ]
    if len(unverified) < 2:
        return summary
    line = SummaryItem(
        unverified[0].target,
        f"{len(unverified)} partenaires de l'an dernier ne sont pas encore vérifiés : pour "
        "chacun, choisissez « Inchangé », « À modifier » ou « Plus de contact », ou cliquez "
        "sur « Tout est comme l'an dernier ».",
    )
    rest = [i for i in summary if i not in unverified]
    return [line, *rest]


def _directory(session: Session, r: Respondent, org_ids: set[int]) -> PartnerDatalist:
    """The directory a partner is searched in: the territory's active structures, plus the
    ones proposed by this respondent and those already among their partners."""
    entries = partner_entries(session, r.territory.id, org_ids, proposed_by=r.professional.id)
    return PartnerDatalist.of(entries, forms.search_key)


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
    extra_slots: int | None = None,
    warnings: list[str] | None = None,
    editing: set[str] | None = None,
) -> HTMLResponse:
    problems = problems or []
    errors: dict[str, list[str]] = {}
    summary: list[SummaryItem] = []
    for p in problems:
        target = forms.field_id(p.field, slot_of or [])
        errors.setdefault(target, []).append(p.message)
    has_carried = any(lk.carried for lk in state.links)
    if extra_slots is None:
        extra_slots = 1 if has_carried or state.links else forms.EMPTY_SLOTS
    cards, empty = partner_cards(session, r, state, errors, extra_slots, editing or set())
    by_slot = {c.slot: c for c in cards}
    for p in problems:
        target = forms.field_id(p.field, slot_of or [])
        card = by_slot.get(int(target[1:].split("-")[0])) if target.startswith("l") else None
        message = p.message
        if card and message == _EDIT_NOT_SHOWN:
            message = forms.EDIT_NOT_SHOWN.format(partner=card.name)  # names it already
        elif card:
            message = f"{card.name} : {message}"
        summary.append(SummaryItem(target, message))
    summary.sort(key=lambda item: _page_rank(item.target))
    summary = _merge_unverified(summary)
    bodies = bodies_to_show(
        session, r.territory.id, [i for b in state.body_ids if (i := small_int(b)) is not None]
    )
    carried = [c for c in cards if c.link.carried]
    progress = Progress(sum(1 for c in carried if c.link.status != "pending"), len(carried))
    directory = _directory(session, r, {c.link.org_id for c in cards if c.link.org_id})
    context = {
        "r": r,
        "territory": r.territory,
        "campaign": r.campaign,
        "token": request.path_params["token"],
        "state": state,
        "carried": carried,
        "added": [c for c in cards if not c.link.carried],
        "empty_slots": empty,
        "directory": directory,
        "bodies": bodies,
        "body_options": [(str(b.id), b.name) for b in bodies],
        "body_names": [b.name for b in bodies if str(b.id) in state.body_ids],
        "own_organisation": own_organisation(session, r),
        "errors": errors,
        "summary": summary,
        "notice": notice,
        "warnings": warnings or [],
        "has_carried": has_carried,
        "progress": progress,
        "time_promise": timing.promise(len(carried)),
        "submitted": r.response is not None and r.response.status == "submitted",
    }
    return templates.TemplateResponse(
        request, "questionnaire/page.html", context, status_code=status_code
    )


def _slots(request: Request) -> int | None:
    raw = request.query_params.get("emplacements", "")
    if small_int(raw, digits=3) is None:
        return None
    return max(1, min(int(raw), MAX_LINKS))


def _editing(request: Request) -> set[str]:
    """Partners whose questions were asked for before the redirect (« À modifier »)."""
    raw = request.query_params.get("modifier", "")
    return {v for v in raw.split(",")[:MAX_LINKS] if v and len(v) < 20}


# --- routes ----------------------------------------------------------------------------


@router.get("/q/{token}", response_class=HTMLResponse)
def questionnaire_page(token: str, request: Request, session: SessionDep) -> Response:
    r = respondent_or_404(session, token)
    if not r.can_write:
        return render_readonly(request, session, r)
    answers, source = current_answers(session, r)
    notice = ""
    if request.query_params.get("envoye"):
        notice = "sent"
    elif request.query_params.get("confirme"):
        notice = "confirmed"
    elif request.query_params.get("enregistre"):
        notice = "saved"
    return _render(
        request,
        session,
        r,
        forms.state_from_answers(answers),
        notice=notice,
        extra_slots=_slots(request),
        warnings=warnings_for(answers) if source in ("draft", "submitted") else [],
        editing=_editing(request),
    )


def _after_save(token: str, action: str, state: forms.FormState, slots: int) -> str:
    """Where a successful POST goes (PRG): back to where the person was."""
    if action == "submit":
        return f"/q/{token}?envoye=1"
    editing = [lk.partner for lk in state.links if lk.editing and lk.partner]
    query = "enregistre=1"
    if action == "confirm_all":
        query = "confirme=1"
    if editing:
        query += "&modifier=" + quote(",".join(editing), safe=",:")
    if action == "more":
        return f"/q/{token}?{query}&emplacements={slots}#ajouter"
    if action == "edit" and editing:
        return f"/q/{token}?{query}#partenaire-{editing[0].replace(':', '-')}"
    return f"/q/{token}?{query}"


@router.post("/q/{token}", response_class=HTMLResponse)
def questionnaire_post(
    token: str, request: Request, session: SessionDep, pairs: PostedPairs
) -> Response:
    r = respondent_or_404(session, token)
    if not r.can_write:
        return render_readonly(request, session, r, 409, CampaignNotOpen(r.campaign).message)
    if (forms.END_MARKER, "1") not in pairs:
        # A truncated or forged body must not be saved as if the person had emptied the form.
        raise HTTPException(status_code=400, detail=INCOMPLETE)
    state, action = forms.state_from_pairs(pairs)
    directory = _directory(session, r, {lk.org_id for lk in state.links if lk.org_id})
    parsed = forms.parse_state(state, action, directory.values)
    shown = next((v for k, v in pairs if k == "emplacements"), "")
    more = small_int(shown, digits=3) or 1
    if parsed.action == "more":
        more += 1
    more = max(1, min(more, MAX_LINKS))

    def again(problems: list[Problem], status_code: int = 422, **kw) -> HTMLResponse:
        return _render(
            request, session, r, parsed.state, status_code=status_code, problems=problems,
            slot_of=parsed.slot_of, extra_slots=more, **kw,
        )  # fmt: skip

    # Without JavaScript « À modifier » opens nothing until the page comes back: submitting
    # then would store last year's answers unseen. The page comes back with them open.
    not_shown = forms.edits_not_shown(parsed) if parsed.action == "submit" else []
    if parsed.answers is None:
        return again(not_shown + parsed.problems)
    answers = parsed.answers
    if not_shown:
        return again(not_shown + check(session, r, answers, submitting=True))
    if parsed.action == "confirm_all":
        try:
            answers = confirm_all(answers)
        except NothingCarried as exc:
            return again([Problem("links", exc.message)])
    try:
        result = save(session, r, answers, submit=parsed.action == "submit")
    except CampaignNotOpen as exc:
        return render_readonly(request, session, r, 409, exc.message)
    if not result.ok:
        return again(result.problems, warnings=result.warnings)
    return RedirectResponse(_after_save(token, parsed.action, parsed.state, more), 303)


@router.post("/q/{token}/partenaire", response_class=HTMLResponse)
def partner_questions(
    token: str, request: Request, session: SessionDep, pairs: PostedPairs
) -> Response:
    """The questions of one partner shown as a line (« À modifier »), as an HTML fragment
    that the page's script puts in place of the line; nothing is saved. The posted fields
    are the line's own (its hidden answers): without JavaScript the same choice is made by
    the line's « Modifier ses réponses » button, which saves and reloads the page."""
    r = respondent_or_404(session, token)
    if not r.can_write:
        raise HTTPException(status_code=409, detail=CampaignNotOpen(r.campaign).message)
    state, _ = forms.state_from_pairs(pairs)
    slots = {int(m.group(1)) for k, _ in pairs if (m := forms.SLOT_NAME.match(k))}
    if len(state.links) != 1 or len(slots) != 1 or not state.links[0].carried:
        raise HTTPException(status_code=400, detail=INCOMPLETE)
    link = state.links[0]
    link.editing = True
    if link.status == "pending":
        link.status = "confirmed"
    cards, _ = partner_cards(session, r, state, {}, 0, set())
    card = cards[0]
    card.slot = slots.pop()
    card.mode = "edit"
    template = templates.get_template("questionnaire/_card_fragment.html")
    return HTMLResponse(template.render(card=card, errors={}, directory=None))
