"""Engagements of a territory: `/t/{code}/engagements...`, and their JSON list.

After reading a year's map, the coordination records what it commits to (survey.engagements);
the next year's map says what became of it (reports.engagements), next to the status.
Viewers read the list, the pages and the API; coordinators create (from scratch or, one
click, from a finding of the coordination or figures page: `/nouvelle?constat=...`), edit,
change the status and add dated notes. Every change is a POST with CSRF, an audit event and
one commit; invalid input shows the form again with a French message (400); another
territory's engagement, structure, instance or campaign is a 404.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.deps import (
    CoordinatorScope,
    CsrfChecked,
    Scope,
    SessionDep,
    ViewerScope,
    commit_audited,
    or_404,
    see_other,
    workspace_page,
    workspace_url,
)
from app.graph_view import campaign_or_404, default_campaign, parse_year
from app.params import small_int
from reports.engagements import what_the_map_shows
from survey import engagements as eng
from survey import instances as inst
from survey import vocab
from survey.directory import Invalid
from survey.models import Campaign, Engagement, Organisation

router = APIRouter()

NOTICES = {
    "creee": "L'engagement a été enregistré.",
    "modifiee": "L'engagement a été modifié.",
    "etat": "L'état de l'engagement a été changé.",
    "note": "La note a été ajoutée.",
}
NOT_HERE = "Cet engagement n'existe pas dans ce territoire."
NO_STRUCTURE = "Cette structure n'existe pas dans ce territoire."

_render = partial(workspace_page, "coordination")


def _base(scope: Scope) -> str:
    return workspace_url(scope, "engagements")


def _engagement_or_404(session: Session, scope: Scope, engagement_id: int) -> Engagement:
    return or_404(eng.get_engagement(session, scope.territory.id, engagement_id), NOT_HERE)


def _audit(session: Session, scope: Scope, action: str, e: Engagement, detail: str) -> None:
    commit_audited(session, scope, action, f"engagement {e.id}", detail)


def _latest(session: Session, scope: Scope) -> Campaign | None:
    """The campaign whose map the engagements are read against: the latest with answers."""
    return default_campaign(session, scope.territory.id)


def _shows(session: Session, rows: list[eng.EngagementRow], campaign: Campaign | None) -> list:
    if campaign is None:
        return [None for _ in rows]
    return [what_the_map_shows(session, r.engagement, campaign) for r in rows]


# --- list ----------------------------------------------------------------------------------


@router.get("/t/{code}/engagements", response_class=HTMLResponse, include_in_schema=False)
def engagement_list(request: Request, scope: ViewerScope, session: SessionDep, fait: str = ""):
    rows = eng.list_engagements(session, scope.territory.id)
    latest = _latest(session, scope)
    return _render(
        request,
        "engagements/list.html",
        scope,
        items=list(zip(rows, _shows(session, rows, latest), strict=True)),
        latest=latest,
        notice=NOTICES.get(fait, ""),
    )


# --- create and edit -----------------------------------------------------------------------


def _structure_or_404(session: Session, scope: Scope, raw: str) -> Organisation:
    org_id = small_int(raw)
    org = session.get(Organisation, org_id) if org_id else None
    if org is None or org.territory_id != scope.territory.id:
        raise HTTPException(status_code=404, detail=NO_STRUCTURE)
    return org


def _prefill(session: Session, scope: Scope, q: dict[str, str]) -> eng.EngagementData:
    """An engagement pre-filled from a finding of the map (`?constat=` and its details); a
    structure, instance or year that is not the territory's is a 404."""
    finding = q.get("constat", "")
    data = eng.EngagementData()
    year = parse_year(q.get("annee"))
    if year is not None:
        data.campaign_id = campaign_or_404(session, scope.territory.id, year).id
    if finding in eng.LINK_FINDINGS:
        a, b = (
            _structure_or_404(session, scope, q.get("a", "")),
            _structure_or_404(session, scope, q.get("b", "")),
        )
        data.structure_ids = [o.id for o in (a, b) if o.id is not None]
        if finding == "fragile":
            data.title = f"Faire porter le lien entre {a.name} et {b.name} par plusieurs personnes"
            data.kind = "meeting"
        else:
            data.title = f"Formaliser le lien entre {a.name} et {b.name}"
            data.kind = "formalise"
    elif finding == "white_zone":
        zone = " ".join(q.get("zone", "").split())[: eng.ZONE_MAX]
        family = next((f for f in vocab.FAMILIES if f.code == q.get("famille", "")), None)
        if not zone or family is None:
            raise HTTPException(status_code=404, detail="Cette zone blanche est inconnue.")
        data.zone, data.family, data.kind = zone, family.code, "white_zone"
        data.title = f"Couvrir la zone blanche {zone} : {family.label.lower()}"
    elif finding == "absent_member":
        body = or_404(
            inst.get_instance(session, scope.territory.id, small_int(q.get("instance", "")) or 0),
            "Cette instance n'existe pas dans ce territoire.",
        )
        org = _structure_or_404(session, scope, q.get("structure", ""))
        data.body_id, data.kind = body.id, "invite"
        data.structure_ids = [org.id] if org.id is not None else []
        data.title = f"Inviter {org.name} à « {body.name} »"
    else:
        finding = ""
    data.finding = finding
    data.title = data.title[: eng.TITLE_MAX]
    return data


def _form(data: eng.EngagementData, due: str | None = None) -> dict[str, Any]:
    """What the form shows: text as typed, choices as the strings the inputs send."""
    return {
        "title": data.title,
        "kind": data.kind,
        "status": data.status,
        "owner_id": "" if data.owner_id is None else str(data.owner_id),
        "due_on": due if due is not None else (data.due_on.isoformat() if data.due_on else ""),
        "structures": {str(i) for i in data.structure_ids},
        "finding": data.finding,
        "zone": data.zone,
        "family": data.family,
        "body_id": "" if data.body_id is None else str(data.body_id),
        "campaign_id": "" if data.campaign_id is None else str(data.campaign_id),
    }


def _optional_id(raw: str) -> int | None:
    """None when empty; a value that is not a number becomes an id no row has (refused)."""
    raw = raw.strip()
    return (small_int(raw) or -1) if raw else None


def _read_form(
    title: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "planned",
    owner_id: Annotated[str, Form()] = "",
    due_on: Annotated[str, Form()] = "",
    structures: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies the default)
    finding: Annotated[str, Form()] = "",
    zone: Annotated[str, Form()] = "",
    family: Annotated[str, Form()] = "",
    body_id: Annotated[str, Form()] = "",
    campaign_id: Annotated[str, Form()] = "",
) -> tuple[eng.EngagementData, str]:
    """The posted engagement, and the due date as typed (parsed when saving)."""
    data = eng.EngagementData(
        title=title[:2000],
        kind=kind[:40],
        status=status[:40],
        owner_id=_optional_id(owner_id),
        structure_ids=[small_int(s) or -1 for s in structures[: eng.MAX_STRUCTURES + 1]],
        finding=finding[:40],
        zone=zone[:400],
        family=family[:40],
        body_id=_optional_id(body_id),
        campaign_id=_optional_id(campaign_id),
    )
    return data, due_on[:40]


Posted = Annotated[tuple[eng.EngagementData, str], Depends(_read_form)]


def _form_page(
    request: Request,
    session: Session,
    scope: Scope,
    form: dict,
    e: Engagement | None = None,
    status: int = 200,
    errors: dict | None = None,
):
    kept = [int(i) for i in form["structures"] if i.isdecimal()]
    if form["owner_id"].isdecimal():
        kept.append(int(form["owner_id"]))
    year = None
    if form["campaign_id"].isdecimal():
        c = session.get(Campaign, int(form["campaign_id"]))
        year = c.year if c is not None else None
    return _render(
        request,
        "engagements/form.html",
        scope,
        status,
        form=form,
        e=e,
        year=year,
        choices=eng.structure_choices(session, scope.territory.id, kept),
        errors=errors or {},
    )


def _save(
    session: Session, scope: Scope, posted: tuple[eng.EngagementData, str], e: Engagement | None
) -> Engagement:
    """Create or update; Invalid with every problem found (the due date's included) and
    nothing written; NotFound becomes a 404."""
    data, due = posted
    try:
        try:
            data.due_on = eng.parse_day(due)
        except Invalid as bad_date:
            # Show the date's problem with the others, without writing anything.
            errors, _, _ = eng.validate(session, scope.territory.id, data.cleaned(), e)
            raise Invalid({**errors, **bad_date.errors}) from None
        if e is None:
            return eng.create_engagement(session, scope.territory.id, data)
        return eng.update_engagement(session, e, data)
    except eng.NotFound as exc:
        session.rollback()
        raise HTTPException(status_code=404, detail=exc.message) from None


@router.get("/t/{code}/engagements/nouvelle", response_class=HTMLResponse, include_in_schema=False)
def engagement_new(request: Request, scope: CoordinatorScope, session: SessionDep):
    data = _prefill(session, scope, dict(request.query_params))
    return _form_page(request, session, scope, _form(data))


@router.post("/t/{code}/engagements/nouvelle", response_class=HTMLResponse, include_in_schema=False)
def engagement_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    posted: Posted,
    _: None = CsrfChecked,
):
    try:
        e = _save(session, scope, posted, None)
    except Invalid as exc:
        session.rollback()
        form = _form(posted[0], posted[1])
        return _form_page(request, session, scope, form, status=400, errors=exc.errors)
    _audit(session, scope, "engagement.create", e, e.title)
    return see_other(f"{_base(scope)}/{e.id}?fait=creee")


@router.get(
    "/t/{code}/engagements/{engagement_id}/modifier",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def engagement_edit(
    request: Request, engagement_id: int, scope: CoordinatorScope, session: SessionDep
):
    e = _engagement_or_404(session, scope, engagement_id)
    return _form_page(request, session, scope, _form(eng.data_of(session, e)), e)


@router.post(
    "/t/{code}/engagements/{engagement_id}/modifier",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def engagement_update(
    request: Request,
    engagement_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    posted: Posted,
    _: None = CsrfChecked,
):
    e = _engagement_or_404(session, scope, engagement_id)
    try:
        _save(session, scope, posted, e)
    except Invalid as exc:
        session.rollback()
        e = _engagement_or_404(session, scope, engagement_id)
        form = _form(posted[0], posted[1])
        return _form_page(request, session, scope, form, e, 400, exc.errors)
    _audit(session, scope, "engagement.update", e, e.title)
    return see_other(f"{_base(scope)}/{e.id}?fait=modifiee")


# --- one engagement: status and notes ------------------------------------------------------


def _page(
    request: Request,
    session: Session,
    scope: Scope,
    e: Engagement,
    status: int = 200,
    notice: str = "",
    errors: dict | None = None,
    note: str = "",
):
    row = eng.engagement_row(session, e)
    latest = _latest(session, scope)
    return _render(
        request,
        "engagements/engagement.html",
        scope,
        status,
        row=row,
        e=e,
        latest=latest,
        shows=_shows(session, [row], latest)[0],
        notice=notice,
        errors=errors or {},
        note=note,
        today=eng.today().isoformat(),
    )


@router.get(
    "/t/{code}/engagements/{engagement_id}", response_class=HTMLResponse, include_in_schema=False
)
def engagement_page(
    request: Request, engagement_id: int, scope: ViewerScope, session: SessionDep, fait: str = ""
):
    e = _engagement_or_404(session, scope, engagement_id)
    return _page(request, session, scope, e, notice=NOTICES.get(fait, ""))


@router.post(
    "/t/{code}/engagements/{engagement_id}/etat",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def engagement_status(
    request: Request,
    engagement_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    status: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    e = _engagement_or_404(session, scope, engagement_id)
    try:
        eng.set_status(session, e, status[:40])
    except Invalid as exc:
        session.rollback()
        e = _engagement_or_404(session, scope, engagement_id)
        return _page(request, session, scope, e, 400, errors=exc.errors)
    label = vocab.ENGAGEMENT_STATUSES[e.status]
    _audit(session, scope, "engagement.status", e, f"« {e.title} » : {label}")
    return see_other(f"{_base(scope)}/{e.id}?fait=etat")


@router.post(
    "/t/{code}/engagements/{engagement_id}/notes",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def engagement_note(
    request: Request,
    engagement_id: int,
    scope: CoordinatorScope,
    session: SessionDep,
    text: Annotated[str, Form()] = "",
    written_on: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    e = _engagement_or_404(session, scope, engagement_id)
    try:
        try:
            day = eng.parse_day(written_on)
        except Invalid:
            raise Invalid(
                {"written_on": "Indiquez une date valide, par exemple 15/03/2027."}
            ) from None
        eng.add_note(session, e, text[:6000], day)
    except Invalid as exc:
        session.rollback()
        e = _engagement_or_404(session, scope, engagement_id)
        return _page(request, session, scope, e, 400, errors=exc.errors, note=text[:6000])
    _audit(session, scope, "engagement.note", e, e.title)
    return see_other(f"{_base(scope)}/{e.id}?fait=note#notes")


# --- JSON ----------------------------------------------------------------------------------


ERRORS = {
    401: {"description": "Connexion requise (cookie de session)."},
    404: {"description": "Territoire inaccessible."},
}


def _item(row: eng.EngagementRow, shows: dict | None) -> dict[str, Any]:
    e = row.engagement
    return {
        "id": e.id,
        "title": e.title,
        "kind": e.kind,
        "kind_label": row.kind_label,
        "status": e.status,
        "status_label": row.status_label,
        "owner": None if row.owner is None else {"id": row.owner.id, "name": row.owner.name},
        "due_on": e.due_on.isoformat() if e.due_on else None,
        "year_read": row.year,
        "finding": e.finding or None,
        "structures": [{"id": o.id, "name": o.name} for o in row.structures],
        "zone": e.zone or None,
        "family": e.family or None,
        "instance": None if row.body is None else {"id": row.body.id, "name": row.body.name},
        "map": shows,
    }


@router.get(
    "/api/v1/t/{code}/engagements",
    responses=ERRORS,
    tags=["coordination"],
    summary="Engagements de la coordination et ce qu'en montre la dernière carte",
)
def api_engagements(scope: ViewerScope, session: SessionDep) -> dict:
    """Les engagements pris par la coordination (titre, type, structures concernées,
    structure pilote, échéance, état) et, pour chacun, ce que montrent les réponses de la
    dernière campagne (`map` : un code — done, partly, not_yet, no_tie, unknown, same_year,
    none — et les constats en français). `year` : l'année de cette campagne (null sans
    campagne). Coordinateurs et lecteurs du territoire."""
    rows = eng.list_engagements(session, scope.territory.id)
    latest = _latest(session, scope)
    shows = _shows(session, rows, latest)
    return {
        "year": latest.year if latest else None,
        "engagements": [_item(r, s) for r, s in zip(rows, shows, strict=True)],
    }
