"""A respondent's partners as cards: what the questionnaire page and the read-only page of
the answers (« Mes réponses », a closed campaign) show of each partner."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from app import forms
from app.templating import templates
from survey import fields, vocab
from survey.directory import partner_names
from survey.models import Body, Service
from survey.questionnaire import MAX_LINKS, Respondent, current_answers, last_year_links


@dataclass
class Card:
    """One partner as shown: the typed values plus what the page needs to show them.

    `mode` is "review" for a partner carried from last year shown as one line (its answers
    travel in hidden fields), "edit" for a carried partner whose questions are open, "new"
    for a partner added this year (or an empty slot to add one)."""

    slot: int
    link: forms.LinkForm
    name: str
    recap: str
    choose_partner: bool  # show the search field (empty slot, or a problem with it)
    mode: str = "new"
    changed: bool = False  # carried, confirmed, and different from last year
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def choice(self) -> str:
        """The review radio checked: confirmed (« Inchangé »), edit, ended, or none."""
        if self.link.status == "pending":
            return ""
        if self.link.status == "ended":
            return "ended"
        return "edit" if self.mode == "edit" else "confirmed"

    @property
    def more_open(self) -> bool:
        """The optional questions start folded, unless one of them has a problem."""
        return any(name in _OPTIONAL for name in self.errors)


# A partner's questions folded under « Plus de précisions (facultatif) ».
_OPTIONAL = {f.name for f in fields.LINK_FIELDS if not f.required}
# What a respondent may change in a carried partner: a difference shows it as changed.
_COMPARED = ("partner", *(f.name for f in fields.LINK_FIELDS if f.compared))


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
    return link.status != "ended" and not (link.nature and (link.practices or link.practice_other))


def _changed(link: forms.LinkForm, before: forms.LinkForm | None) -> bool:
    if before is None:
        return False
    for name in _COMPARED:
        now, then = getattr(link, name), getattr(before, name)
        if isinstance(now, list):  # codes: their order does not matter
            now, then = sorted(now), sorted(then)
        if now != then:
            return True
    return False


def partner_cards(
    session: Session,
    r: Respondent,
    state: forms.FormState,
    errors: dict[str, list[str]],
    extra_slots: int,
    editing: set[str],
) -> tuple[list[Card], list[Card]]:
    """The partners as cards, and `extra_slots` empty ones to add partners. `editing` holds
    the partner values whose questions were asked for (« À modifier »)."""
    orgs, services = partner_names(
        session,
        r.territory.id,
        {lk.org_id for lk in state.links if lk.org_id},
        {lk.service_id for lk in state.links if lk.service_id},
    )
    before: dict[str, forms.LinkForm] = {}
    if any(lk.carried and lk.status == "confirmed" for lk in state.links):
        before = {str(k): forms.link_form(a) for k, a in last_year_links(session, r).items()}
    cards = []
    for slot, link in enumerate(state.links):
        prefix = f"l{slot}-"
        mine = {k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)}
        name = orgs.get(link.org_id, "") if link.org_id else link.write_in_name
        if name and link.service_id:
            name = f"{name} — {services.get(link.service_id, '')}"
        partner_problem = any(k.startswith(("partner", "write_in")) for k in mine)
        card = Card(
            slot=slot,
            link=link,
            name=name or "Partenaire à choisir",
            recap=_recap(link),
            choose_partner=partner_problem or not name,
            errors=mine,
        )
        if link.carried:
            card.changed = link.status == "confirmed" and _changed(
                link, before.get(link.carried_from_id)
            )
            wants_edit = link.editing or link.partner in editing
            edit = bool(mine) or (
                link.status == "confirmed" and (wants_edit or card.changed or _incomplete(link))
            )
            card.mode = "edit" if edit else "review"
        cards.append(card)
    start = len(state.links)
    empty = [
        Card(slot=start + i, link=forms.LinkForm(), name="", recap="", choose_partner=True)
        for i in range(max(0, min(extra_slots, MAX_LINKS - start)))
    ]
    return cards, empty


def own_organisation(session: Session, r: Respondent) -> str:
    """The respondent's structure, and service when they have one."""
    name = r.organisation.name
    if r.professional.service_id:
        service = session.get(Service, r.professional.service_id)
        if service is not None:
            name = f"{name} — {service.name}"
    return name


def render_readonly(
    request: Request, session: Session, r: Respondent, status_code: int = 200, refusal: str = ""
) -> HTMLResponse:
    """The answers, read only: the page of a closed campaign (or a refused save) and the
    printable « Mes réponses »."""
    answers, source = current_answers(session, r)
    state = forms.state_from_answers(answers)
    cards, _ = partner_cards(session, r, state, {}, 0, set())
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
        "own_organisation": own_organisation(session, r),
        "bodies": [body_names[b] for b in answers.body_ids if b in body_names],
        "answered": source in ("draft", "submitted"),
        "refusal": refusal,
    }
    return templates.TemplateResponse(
        request, "questionnaire/readonly.html", context, status_code=status_code
    )
