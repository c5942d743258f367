"""Campaign pages of a territory: preparation, lifecycle, follow-up, links export, e-mail.

Coordinators (and administrators) change things; viewers read the follow-up figures but
never see a professional's name, e-mail or link. Each change is a POST with CSRF and an
audit event; a confirmation page (GET on the same address) precedes every lifecycle action
and every mass sending, so nothing needs JavaScript.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app.deps import (
    CoordinatorScope,
    CsrfChecked,
    Scope,
    SessionDep,
    ViewerScope,
    checked_people,
    commit_audited,
    commit_audited_each,
    or_404,
    professional_or_404,
    see_other,
    workspace_url,
)
from app.mail import smtp_config
from app.params import small_int
from app.settings import Settings
from app.templating import templates
from reports import privacy, snapshot
from survey import campaigns, mailing, next_steps, vocab
from survey.campaigns import CampaignInvalid, CampaignRefused
from survey.models import Campaign

router = APIRouter(include_in_schema=False)
PARIS = ZoneInfo("Europe/Paris")

LIFECYCLE = {
    "ouvrir": {
        "title": "Ouvrir la campagne {year}",
        "button": "Oui, ouvrir la campagne {year}",
        "audit": "campaign.open",
    },
    "clore": {
        "title": "Clore la campagne {year}",
        "button": "Oui, clore la campagne {year}",
        "audit": "campaign.close",
    },
    "rouvrir": {
        "title": "Rouvrir la campagne {year}",
        "button": "Oui, rouvrir la campagne {year}",
        "audit": "campaign.reopen",
    },
}

NOTICES = {
    "creee": "La campagne a été préparée. Vérifiez les dates et le texte d'introduction, puis ouvrez-la.",
    "modifiee": "Les dates, les relances et le texte d'introduction ont été enregistrés.",
    "ouvrir": "La campagne est ouverte : les professionnels peuvent répondre avec leur lien personnel.",
    "clore": "La campagne est close : les réponses ne peuvent plus être modifiées.",
    "rouvrir": "La campagne est rouverte : les professionnels peuvent de nouveau répondre.",
    "modeles": "Le modèle de message a été enregistré.",
    "modeles-reinit": "Le modèle de message proposé par défaut a été rétabli.",
}


# --- helpers -------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _campaign_or_404(session: Session, scope: Scope, year: int) -> Campaign:
    return or_404(
        campaigns.campaign_of(session, scope.territory.id, year),
        f"Pas de campagne {year} sur ce territoire.",
    )


def _parse_date(value: str, name: str, problems: dict[str, str]) -> date | None:
    """ISO (what a date field sends) or jj/mm/aaaa (what a person types without one)."""
    value = value.strip()
    if not value:
        return None
    try:
        if "/" in value:
            day, month, year = (int(p) for p in value.split("/"))
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        problems[name] = "Indiquez une date valide, par exemple 15/03/2027."
        return None


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _target(scope: Scope, campaign: Campaign) -> str:
    return f"campagne {scope.territory.code}/{campaign.year}"


def _today() -> date:
    """Today in France: a closing date passes at midnight, Paris time."""
    return datetime.now(PARIS).date()


def steps_of(request: Request, session: Session, campaign: Campaign) -> list[next_steps.NextStep]:
    """The « À faire maintenant » actions of `campaign`."""
    emails = smtp_config(_settings(request)) is not None
    return next_steps.steps(next_steps.state_of(session, campaign, emails, _today()))


# --- list and preparation ------------------------------------------------------------------


def _list_page(
    request: Request,
    session: Session,
    scope: Scope,
    status: int = 200,
    form: dict | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    tid = scope.territory.id
    items = campaigns.list_campaigns(session, tid)
    form = form or {
        "year": str(campaigns.next_year(session, tid)),
        "opens_on": "",
        "closes_on": "",
        "introduction": "",
    }
    return templates.TemplateResponse(
        request,
        "campaigns/list.html",
        {
            "scope": scope,
            "section": "campagnes",
            "items": items,
            "labels": campaigns.CAMPAIGN_STATUS_LABELS,
            "form": form,
            "errors": errors or {},
        },
        status_code=status,
    )


@router.get("/t/{code}/campagnes", response_class=HTMLResponse)
def campaign_list(request: Request, scope: ViewerScope, session: SessionDep):
    return _list_page(request, session, scope)


@router.post("/t/{code}/campagnes", response_class=HTMLResponse)
def campaign_create(
    request: Request,
    scope: CoordinatorScope,
    session: SessionDep,
    year: Annotated[str, Form()] = "",
    opens_on: Annotated[str, Form()] = "",
    closes_on: Annotated[str, Form()] = "",
    introduction: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    form = {
        "year": year,
        "opens_on": opens_on,
        "closes_on": closes_on,
        "introduction": introduction,
    }
    problems: dict[str, str] = {}
    year_value = small_int(year, digits=4)
    if year_value is None:
        problems["year"] = "Indiquez une année sur quatre chiffres, par exemple 2027."
    start = _parse_date(opens_on, "opens_on", problems)
    end = _parse_date(closes_on, "closes_on", problems)
    if not problems:
        try:
            campaign = campaigns.create_campaign(
                session, scope.territory, year_value, start, end, introduction
            )
        except CampaignInvalid as exc:
            problems = exc.problems
    if problems:
        session.rollback()
        return _list_page(request, session, scope, 400, form, problems)
    commit_audited(session, scope, "campaign.create", _target(scope, campaign))
    return see_other(f"{workspace_url(scope, 'campagnes')}/{campaign.year}?fait=creee")


# --- e-mail templates (registered before /{year} so the path is not read as a year) ---------


def _messages_page(
    request: Request,
    session: Session,
    scope: Scope,
    status: int = 200,
    edited: tuple[str, str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    current = mailing.get_templates(session, scope.territory.id)
    if edited:
        current[edited[0]] = (edited[1], edited[2])
    return templates.TemplateResponse(
        request,
        "campaigns/messages.html",
        {
            "scope": scope,
            "section": "campagnes",
            "templates_by_kind": current,
            "defaults": mailing.DEFAULT_TEMPLATES,
            "kinds": mailing.KIND_LABELS,
            "placeholders": mailing.PLACEHOLDERS,
            "edited_kind": edited[0] if edited else "",
            "errors": errors or {},
            "notice": NOTICES.get(notice, ""),
            "smtp": smtp_config(_settings(request)) is not None,
        },
        status_code=status,
    )


@router.get("/t/{code}/campagnes/messages", response_class=HTMLResponse)
def messages_form(request: Request, scope: CoordinatorScope, session: SessionDep, fait: str = ""):
    return _messages_page(request, session, scope, notice=fait)


@router.post("/t/{code}/campagnes/messages/{kind}", response_class=HTMLResponse)
def messages_save(
    request: Request,
    kind: str,
    scope: CoordinatorScope,
    session: SessionDep,
    subject: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    reset: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    if kind not in mailing.KINDS:
        raise HTTPException(status_code=404)
    if reset:
        mailing.reset_template(session, scope.territory.id, kind)
        commit_audited(session, scope, "email_template.reset", f"modèle {kind}")
        return see_other(f"{workspace_url(scope, 'campagnes')}/messages?fait=modeles-reinit")
    try:
        mailing.save_template(session, scope.territory.id, kind, subject, body)
    except mailing.TemplateInvalid as exc:
        session.rollback()
        errors = {f"{kind}-{field}": message for field, message in exc.problems.items()}
        return _messages_page(request, session, scope, 400, (kind, subject, body), errors)
    commit_audited(session, scope, "email_template.save", f"modèle {kind}")
    return see_other(f"{workspace_url(scope, 'campagnes')}/messages?fait=modeles")


# --- one campaign --------------------------------------------------------------------------


def _campaign_page(
    request: Request,
    session: Session,
    scope: Scope,
    campaign: Campaign,
    status: int = 200,
    form: dict | None = None,
    errors: dict[str, str] | None = None,
    notice: tuple[str, str] = ("", ""),
    refusal: str = "",
) -> HTMLResponse:
    followup = campaigns.followup(session, campaign, vocab.ORG_TYPES)
    figures: campaigns.Followup | privacy.ShownFollowup = followup
    if not scope.can_write:
        # A viewer: « < 3 », and what must be hidden too for no « < 3 » to be recovered by
        # subtraction from a row's or a column's total (reports.privacy.protect_table).
        figures = privacy.suppress_followup(followup, followup.type_of)
    context: dict = {
        "scope": scope,
        "section": "campagnes",
        "campaign": campaign,
        "labels": campaigns.CAMPAIGN_STATUS_LABELS,
        "status_labels": campaigns.STATUS_LABELS,
        "figures": figures,
        "form": form
        or {
            "opens_on": _iso(campaign.opens_on),
            "closes_on": _iso(campaign.closes_on),
            "reminder1_on": _iso(campaign.reminder1_on),
            "reminder2_on": _iso(campaign.reminder2_on),
            "introduction": campaign.introduction,
        },
        "errors": errors or {},
        "notice": notice,
        "refusal": refusal,
        "can_reopen": campaigns.can_reopen(session, campaign),
        "other_open": campaigns.open_campaign_of(session, campaign.territory_id),
    }
    if scope.can_write:
        smtp = smtp_config(_settings(request))
        people = campaigns.people(session, campaign)
        context.update(
            {
                "next_steps": steps_of(request, session, campaign),
                "people": {
                    key: [p for p in people if p.status == key]
                    for key in ("not_started", "draft", "submitted")
                },
                "sent": mailing.sent_per_professional(session, campaign),
                "kind_labels": mailing.KIND_LABELS,
                "smtp": smtp is not None,
                "due": mailing.due_counts(session, campaign) if smtp else {},
                "without_email": mailing.without_email(session, campaign),
                "log": mailing.recent_log(session, campaign),
                "local_time": local_time,
                "log_summary": mailing.log_summary(session, campaign),
                "next_reminder": mailing.next_reminder(session, campaign, _today()),
                "today": _today(),
            }
        )
    return templates.TemplateResponse(request, "campaigns/detail.html", context, status_code=status)


def _notice(fait: str, request: Request) -> tuple[str, str]:
    """(text, style) of the message shown after a redirect; `fait` picks a fixed text, so
    nothing from the query string is echoed except counts."""
    if fait == "envoi":
        sent = request.query_params.get("envoyes", "0")
        failed = request.query_params.get("echecs", "0")
        if small_int(sent) is None or small_int(failed) is None:
            return "", ""
        text = f"Envoi terminé : {sent} message(s) envoyé(s)"
        if failed != "0":
            text += f", {failed} en échec (voir le journal des envois ci-dessous)"
            return text + ".", "warning"
        return text + ".", "success"
    if fait == "ouvrir" and small_int(request.query_params.get("liens", "")) is not None:
        liens = request.query_params["liens"]
        return NOTICES["ouvrir"] + f" {liens} lien(s) personnel(s) créé(s).", "success"
    return NOTICES.get(fait, ""), "success"


@router.get("/t/{code}/campagnes/{year}", response_class=HTMLResponse)
def campaign_detail(
    request: Request, year: int, scope: ViewerScope, session: SessionDep, fait: str = ""
):
    campaign = _campaign_or_404(session, scope, year)
    return _campaign_page(request, session, scope, campaign, notice=_notice(fait, request))


@router.post("/t/{code}/campagnes/{year}/modifier", response_class=HTMLResponse)
def campaign_update(
    request: Request,
    year: int,
    scope: CoordinatorScope,
    session: SessionDep,
    opens_on: Annotated[str, Form()] = "",
    closes_on: Annotated[str, Form()] = "",
    introduction: Annotated[str, Form()] = "",
    reminder1_on: Annotated[str, Form()] = "",
    reminder2_on: Annotated[str, Form()] = "",
    # The form says it carries the reminder dates (an empty one then clears it): a script
    # posting only the dates and the text keeps the stored reminders. A marker, because
    # FastAPI reads an empty field as an absent one.
    with_reminders: Annotated[str, Form()] = "",
    _: None = CsrfChecked,
):
    campaign = _campaign_or_404(session, scope, year)
    if not with_reminders:
        reminder1_on, reminder2_on = _iso(campaign.reminder1_on), _iso(campaign.reminder2_on)
    form = {
        "opens_on": opens_on,
        "closes_on": closes_on,
        "introduction": introduction,
        "reminder1_on": reminder1_on,
        "reminder2_on": reminder2_on,
    }
    problems: dict[str, str] = {}
    start = _parse_date(opens_on, "opens_on", problems)
    end = _parse_date(closes_on, "closes_on", problems)
    reminders = None
    if with_reminders:
        reminders = (
            _parse_date(form["reminder1_on"], "reminder1_on", problems),
            _parse_date(form["reminder2_on"], "reminder2_on", problems),
        )
    try:
        if problems:
            raise CampaignInvalid(problems)
        campaigns.update_campaign(session, campaign, start, end, introduction, reminders)
    except CampaignInvalid as exc:
        session.rollback()
        return _campaign_page(request, session, scope, campaign, 400, form, exc.problems)
    except CampaignRefused as exc:
        session.rollback()
        return _campaign_page(request, session, scope, campaign, 409, form, refusal=exc.message)
    commit_audited(session, scope, "campaign.update", _target(scope, campaign))
    return see_other(f"{workspace_url(scope, 'campagnes')}/{year}?fait=modifiee")


# --- links ---------------------------------------------------------------------------------


@router.get("/t/{code}/campagnes/{year}/liens.csv")
def links_csv(
    request: Request,
    year: int,
    scope: CoordinatorScope,
    session: SessionDep,
    format: str = "",
    attente: str = "",
):
    """Every link, or with `attente=1` only those of people who have not sent their answer
    (the reminder without e-mail)."""
    campaign = _campaign_or_404(session, scope, year)
    settings = _settings(request)
    rows = campaigns.status_report(session, campaign, request.app.state.secret, settings.base_url)
    pending = attente == "1"
    if pending:
        rows = [r for r in rows if r.status != "submitted"]
    excel = format == "excel"
    commit_audited(
        session,
        scope,
        "campaign.export_links",
        _target(scope, campaign),
        f"{len(rows)} ligne(s), {'Excel' if excel else 'UTF-8'}"
        + (", sans réponse envoyée" if pending else ""),
    )
    filename = (
        f"liens-{scope.territory.code}-{year}{'-sans-reponse' if pending else ''}"
        f"{'-excel' if excel else ''}.csv"
    )
    return Response(
        campaigns.status_csv(rows, excel=excel),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


Checked = Annotated[list[str], Query()]


def _renew_many_page(
    request: Request, scope: Scope, campaign: Campaign, people: list, renewed: list | None = None
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "campaigns/renew_many.html",
        {
            "scope": scope,
            "section": "campagnes",
            "campaign": campaign,
            "people": people,
            "renewed": renewed or [],
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/t/{code}/campagnes/{year}/liens/renouveler", response_class=HTMLResponse)
def renew_many_confirm(
    request: Request,
    year: int,
    scope: CoordinatorScope,
    session: SessionDep,
    p: Checked = [],  # noqa: B006 (FastAPI copies the default)
):
    campaign = _campaign_or_404(session, scope, year)
    people = checked_people(session, scope, p)
    if campaign.status == "closed":
        raise HTTPException(
            status_code=409,
            detail=f"La campagne {year} est close : les liens ne peuvent plus être renouvelés.",
        )
    return _renew_many_page(request, scope, campaign, people)


@router.post("/t/{code}/campagnes/{year}/liens/renouveler", response_class=HTMLResponse)
def renew_many_do(
    request: Request,
    year: int,
    scope: CoordinatorScope,
    session: SessionDep,
    p: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies the default)
    _: None = CsrfChecked,
):
    campaign = _campaign_or_404(session, scope, year)
    people = checked_people(session, scope, p)
    try:
        renewed = campaigns.renew_links(session, campaign, people, request.app.state.secret)
    except CampaignRefused as exc:
        session.rollback()
        return _campaign_page(request, session, scope, campaign, 409, refusal=exc.message)
    base_url = _settings(request).base_url
    commit_audited_each(
        session,
        scope,
        "link.renew",
        [
            (_target(scope, campaign), f"professionnel #{pro.id} (renouvellement groupé)")
            for pro, _token in renewed
        ],
    )
    links = [(pro, campaigns.link_url(base_url, token)) for pro, token in renewed]
    return _renew_many_page(request, scope, campaign, [], links)


@router.get(
    "/t/{code}/campagnes/{year}/professionnels/{pid}/nouveau-lien", response_class=HTMLResponse
)
def renew_confirm(
    request: Request, year: int, pid: int, scope: CoordinatorScope, session: SessionDep
):
    campaign = _campaign_or_404(session, scope, year)
    pro = professional_or_404(session, scope, pid)
    return templates.TemplateResponse(
        request,
        "campaigns/renew.html",
        {"scope": scope, "section": "campagnes", "campaign": campaign, "pro": pro, "link": ""},
    )


@router.post(
    "/t/{code}/campagnes/{year}/professionnels/{pid}/nouveau-lien", response_class=HTMLResponse
)
def renew_do(
    request: Request,
    year: int,
    pid: int,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    campaign = _campaign_or_404(session, scope, year)
    pro = professional_or_404(session, scope, pid)
    try:
        token = campaigns.renew_link(session, campaign, pro, request.app.state.secret)
    except CampaignRefused as exc:
        session.rollback()
        return _campaign_page(request, session, scope, campaign, 409, refusal=exc.message)
    commit_audited(
        session, scope, "link.renew", _target(scope, campaign), f"professionnel #{pro.id}"
    )
    link = campaigns.link_url(_settings(request).base_url, token)
    response = templates.TemplateResponse(
        request,
        "campaigns/renew.html",
        {"scope": scope, "section": "campagnes", "campaign": campaign, "pro": pro, "link": link},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- e-mail sending ------------------------------------------------------------------------


def _sending_allowed(request: Request, campaign: Campaign, kind: str) -> mailing.SmtpConfig:
    if kind not in mailing.KINDS:
        raise HTTPException(status_code=404)
    smtp = smtp_config(_settings(request))
    if smtp is None:
        raise HTTPException(
            status_code=409,
            detail="L'envoi d'e-mails n'est pas configuré sur ce serveur : exportez les liens (CSV).",
        )
    if campaign.status != "open":
        raise HTTPException(
            status_code=409,
            detail=f"La campagne {campaign.year} n'est pas ouverte : aucun message ne peut être envoyé.",
        )
    return smtp


@router.get("/t/{code}/campagnes/{year}/envoyer/{kind}", response_class=HTMLResponse)
def send_confirm(
    request: Request, year: int, kind: str, scope: CoordinatorScope, session: SessionDep
):
    campaign = _campaign_or_404(session, scope, year)
    _sending_allowed(request, campaign, kind)
    subject, body = mailing.get_templates(session, scope.territory.id)[kind]
    label = mailing.KIND_LABELS[kind]
    return _confirm_page(
        request,
        scope,
        {
            "campaign": campaign,
            "action": "envoyer",
            "kind": kind,
            "texts": {
                "title": f"{label} — campagne {year}",
                "button": f"Oui, envoyer ({label.lower()})",
            },
            "post_to": f"{workspace_url(scope, 'campagnes')}/{year}/envoyer/{kind}",
            "due": mailing.due_counts(session, campaign)[kind],
            "subject": subject,
            "body": body,
        },
    )


@router.post("/t/{code}/campagnes/{year}/envoyer/{kind}", response_class=HTMLResponse)
def send_do(
    request: Request,
    year: int,
    kind: str,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    campaign = _campaign_or_404(session, scope, year)
    smtp = _sending_allowed(request, campaign, kind)
    report = mailing.send(
        session, campaign, kind, smtp, request.app.state.secret, _settings(request).base_url
    )
    commit_audited(
        session,
        scope,
        f"email.{kind}",
        _target(scope, campaign),
        f"{report.sent} envoyé(s), {report.failed} en échec",
    )
    return see_other(
        f"{workspace_url(scope, 'campagnes')}/{year}"
        f"?fait=envoi&envoyes={report.sent}&echecs={report.failed}"
    )


def local_time(value: datetime | None) -> str:
    """« 24/11/2026 15:20 », French time: logs are stored in UTC."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


# --- lifecycle (last: /{year}/{action} would otherwise shadow the routes above) ---------


def _confirm_page(request: Request, scope: Scope, context: dict, status: int = 200) -> HTMLResponse:
    context.update({"scope": scope, "section": "campagnes"})
    return templates.TemplateResponse(
        request, "campaigns/confirm.html", context, status_code=status
    )


@router.get("/t/{code}/campagnes/{year}/{action}", response_class=HTMLResponse)
def lifecycle_confirm(
    request: Request, year: int, action: str, scope: CoordinatorScope, session: SessionDep
):
    if action not in LIFECYCLE:
        raise HTTPException(status_code=404)
    campaign = _campaign_or_404(session, scope, year)
    texts = {k: v.format(year=year) for k, v in LIFECYCLE[action].items() if k != "audit"}
    return _confirm_page(
        request,
        scope,
        {
            "campaign": campaign,
            "action": action,
            "texts": texts,
            "post_to": f"{workspace_url(scope, 'campagnes')}/{year}/{action}",
            "new_links": campaigns.count_missing_links(session, campaign)
            if action != "clore"
            else 0,
            "other_open": campaigns.open_campaign_of(session, campaign.territory_id),
        },
    )


@router.post("/t/{code}/campagnes/{year}/{action}", response_class=HTMLResponse)
def lifecycle_do(
    request: Request,
    year: int,
    action: str,
    scope: CoordinatorScope,
    session: SessionDep,
    _: None = CsrfChecked,
):
    if action not in LIFECYCLE:
        raise HTTPException(status_code=404)
    campaign = _campaign_or_404(session, scope, year)
    secret = request.app.state.secret
    issued = 0
    try:
        if action == "ouvrir":
            issued = campaigns.open_campaign(session, campaign, secret)
        elif action == "clore":
            snapshot.close(session, campaign)
        else:
            issued = snapshot.reopen(session, campaign, secret)
    except CampaignRefused as exc:
        session.rollback()
        campaign = _campaign_or_404(session, scope, year)
        return _campaign_page(request, session, scope, campaign, 409, refusal=exc.message)
    detail = f"{issued} lien(s) créé(s)" if issued else ""
    commit_audited(session, scope, LIFECYCLE[action]["audit"], _target(scope, campaign), detail)
    suffix = f"&liens={issued}" if action != "clore" else ""
    return see_other(f"{workspace_url(scope, 'campagnes')}/{year}?fait={action}{suffix}")
