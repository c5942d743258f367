"""What a coordinator should do now about a campaign: the « À faire maintenant » block that
opens the campaign page and the dashboard.

`steps` is a pure rule: a campaign's state in, at most three actions out, the most urgent
first. `state_of` reads that state from the database; the web layer turns each step's
`url` (a path under the territory's workspace, `/t/{code}/`) into a link.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session

from survey import campaigns, french, mailing
from survey.models import Campaign

MAX_STEPS = 3


@dataclass(frozen=True)
class CampaignState:
    """What the rule needs to know about one campaign, already counted."""

    year: int
    status: str  # draft | open | closed
    today: date
    closes_on: date | None = None
    invited: int = 0  # people counted in the follow-up
    started: int = 0  # drafts and submitted answers
    not_answered: int = 0  # invited and not submitted (not started or draft)
    emails: bool = False  # e-mail sending is configured on this server
    invitation_due: int = 0  # people an invitation e-mail would reach now
    reminder1_due: int = 0
    reminder2_due: int = 0
    links_to_create: int = 0  # active professionals without a link (what opening issues)
    other_open_year: int | None = None  # another campaign of the territory that is open
    later_year: int | None = None  # the next campaign after this one, if prepared
    later_status: str | None = None


@dataclass(frozen=True)
class NextStep:
    code: str  # open | close | close_other | invite | remind | export_pending | ...
    count: int  # the people it concerns (0 when it is not about people)
    label: str  # French, plain words, the count written in
    url: str  # path under /t/{code}/, without the leading slash


def _people(n: int) -> str:
    return french.plural(n, "personne")


def _not_answered(n: int) -> str:
    """« les 41 personnes qui n'ont pas répondu », « la personne qui n'a pas répondu »."""
    return (
        "la personne qui n'a pas répondu" if n == 1 else f"les {_people(n)} qui n'ont pas répondu"
    )


def steps(state: CampaignState) -> list[NextStep]:
    """The actions to take now, the most urgent first, at most MAX_STEPS."""
    year = state.year
    here = f"campagnes/{year}"
    out: list[NextStep] = []
    if state.status == "draft":
        if state.other_open_year is not None:
            other = state.other_open_year
            out.append(
                NextStep(
                    "close_other",
                    0,
                    f"Clore d'abord la campagne en cours ({other}) : une seule peut être ouverte à la fois",
                    f"campagnes/{other}/clore",
                )
            )
        else:
            label = f"Ouvrir la campagne {year}"
            if state.links_to_create:
                label += f" et créer les liens personnels de {_people(state.links_to_create)}"
            out.append(NextStep("open", state.links_to_create, label, f"{here}/ouvrir"))
    elif state.status == "open":
        date_passed = state.closes_on is not None and state.closes_on < state.today
        if date_passed:
            out.append(
                NextStep(
                    "close",
                    0,
                    f"Clore la campagne {year} : la date de clôture "
                    f"({french.date_fr(state.closes_on)}) est passée",
                    f"{here}/clore",
                )
            )
        if state.emails and state.invitation_due:
            n = state.invitation_due
            out.append(
                NextStep(
                    "invite",
                    n,
                    "Envoyer l'invitation à la personne qui ne l'a pas reçue"
                    if n == 1
                    else f"Envoyer l'invitation aux {_people(n)} qui ne l'ont pas reçue",
                    f"{here}/envoyer/invitation",
                )
            )
        if state.not_answered:
            out.extend(_reminder(state, here))
        elif state.invited and not date_passed:
            out.append(
                NextStep(
                    "close",
                    0,
                    f"Tout le monde a répondu : clore la campagne {year}",
                    f"{here}/clore",
                )
            )
    elif state.status == "closed":
        out.append(
            NextStep("report", 0, f"Télécharger le rapport {year} (PDF)", f"rapport/{year}.pdf")
        )
        out.extend(_after_close(state))
    return out[:MAX_STEPS]


def _reminder(state: CampaignState, here: str) -> list[NextStep]:
    """Reach those who have not answered: by e-mail while a reminder is due, else their
    links to pass on another way."""
    if state.emails and not state.invitation_due and state.reminder1_due:
        n = state.reminder1_due
        return [
            NextStep(
                "remind",
                n,
                f"Relancer {_not_answered(n)}",
                f"{here}/envoyer/reminder1",
            )
        ]
    if state.emails and not state.invitation_due and state.reminder2_due:
        n = state.reminder2_due
        return [
            NextStep(
                "remind",
                n,
                f"Relancer une seconde fois {_not_answered(n)}",
                f"{here}/envoyer/reminder2",
            )
        ]
    if state.emails and state.invitation_due:
        return []  # the invitation comes first; the reminder will follow it
    if not state.emails and not state.started:
        # Nobody has opened a link yet: the links were probably never passed on.
        n = state.invited
        return [
            NextStep(
                "export_links",
                n,
                "Exporter le lien de la personne invitée pour le lui envoyer"
                if n == 1
                else f"Exporter les liens des {_people(n)} invitées pour les leur envoyer",
                f"{here}/liens.csv?format=excel",
            )
        ]
    n = state.not_answered
    return [
        NextStep(
            "export_pending",
            n,
            f"Relancer {_not_answered(n)} : exporter " + ("son lien" if n == 1 else "leurs liens"),
            f"{here}/liens.csv?format=excel&attente=1",
        )
    ]


def _after_close(state: CampaignState) -> list[NextStep]:
    if state.later_year is not None:
        later = state.later_year
        if state.later_status == "draft" and state.other_open_year is None:
            return [NextStep("open_next", 0, f"Ouvrir la campagne {later}", f"campagnes/{later}")]
        return [NextStep("follow_next", 0, f"Suivre la campagne {later}", f"campagnes/{later}")]
    if state.other_open_year is not None:
        return []
    return [
        NextStep("prepare_next", 0, f"Préparer la campagne {state.year + 1}", "campagnes#preparer")
    ]


def first_steps() -> list[NextStep]:
    """A territory with no campaign yet."""
    return [NextStep("prepare_next", 0, "Préparer la première campagne", "campagnes#preparer")]


# --- reading the state ---------------------------------------------------------------------


def state_of(session: Session, campaign: Campaign, emails: bool, today: date) -> CampaignState:
    """Count what `steps` needs for `campaign` (a few COUNT queries)."""
    year = campaign.year
    status = campaign.status
    other = campaigns.open_campaign_of(session, campaign.territory_id)
    later = [c for c in campaigns.list_campaigns(session, campaign.territory_id) if c.year > year]
    following = min(later, key=lambda c: c.year) if later else None
    state = CampaignState(
        year=year,
        status=status,
        today=today,
        closes_on=campaign.closes_on,
        emails=emails,
        other_open_year=other.year if other is not None and other.id != campaign.id else None,
        later_year=following.year if following else None,
        later_status=following.status if following else None,
    )
    if status == "draft":
        return replace(state, links_to_create=campaigns.count_missing_links(session, campaign))
    if status != "open":
        return state
    overall = campaigns.followup(session, campaign).overall
    due = mailing.due_counts(session, campaign) if emails else {}
    return replace(
        state,
        invited=overall.invited,
        started=overall.draft + overall.submitted,
        not_answered=overall.invited - overall.submitted,
        invitation_due=due.get("invitation", 0),
        reminder1_due=due.get("reminder1", 0),
        reminder2_due=due.get("reminder2", 0),
    )


def current_campaign(items: list[Campaign]) -> Campaign | None:
    """The campaign the dashboard talks about: the open one, else the latest."""
    for c in items:
        if c.status == "open":
            return c
    return max(items, key=lambda c: c.year) if items else None
