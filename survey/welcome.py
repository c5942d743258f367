"""The welcome sheet (« Fiche d'accueil ») of a professional who takes over a post or joins a
structure: what their structure's network looked like before they arrived.

One function, `welcome_sheet`, feeds the web page, the PDF and the `carte accueil` command.
It reads only answers already given and the coordination's own records:

- the partners last declared by the predecessor (`Professional.took_over_from_id`) and by the
  colleagues of the same structure (each one's latest submitted response, any campaign),
  merged per partner structure and service;
- named contacts only where the person agreed to be listed (the link's `contact_consent`, or
  the partner service's `contact_consent`);
- the instances the structure sits in, the conventions in force it signed, the structures
  that cite it in the latest campaign.

Privacy: no professional's name appears (not the predecessor's, not the colleagues'): who
declared a partner is said as « votre prédécesseur·e » or « un·e collègue ». Nothing about
the people supported is stored, so nothing of them can appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from survey import vocab
from survey.db import stored_id
from survey.directory import TerritoryStructures
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Convention,
    ConventionParty,
    DeclaredLink,
    Professional,
    Response,
    ResponseBody,
    Service,
    Territory,
)

# Link statuses that mean « still a partner » (as reports.graph counts them; survey cannot
# import reports: the layers go app → reports → survey).
_COUNTED = ("new", "confirmed")
PREDECESSOR = "votre prédécesseur·e"
COLLEAGUE = "un·e collègue"


def _roots(session: Session, territory_id: int) -> tuple[dict[int, int], dict[int, str]]:
    """Every structure of the territory mapped to the one that absorbed it by merges (itself
    if never merged), and every structure's name."""
    structures = TerritoryStructures.load(session, territory_id)
    roots = {i: stored_id(o) for i in structures.by_id if (o := structures.canonical(i))}
    return roots, {i: o.name for i, o in structures.by_id.items()}


def _latest_submitted(session: Session, territory_id: int, professional_id: int) -> Response | None:
    """The professional's latest submitted response in the territory, any campaign."""
    found = session.exec(
        select(Response)
        .join(Campaign, col(Campaign.id) == Response.campaign_id)
        .where(
            Response.professional_id == professional_id,
            Response.status == "submitted",
            Campaign.territory_id == territory_id,
        )
        .order_by(col(Campaign.year).desc(), col(Response.id).desc())
    ).first()
    return found


@dataclass
class _Partner:
    name: str
    service: str
    declared_by: list[str] = field(default_factory=list)
    colleagues: int = 0
    natures: set[str] = field(default_factory=set)
    frequencies: set[str] = field(default_factory=set)
    contacts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        who = list(self.declared_by)
        if self.colleagues == 1:
            who.append(COLLEAGUE)
        elif self.colleagues > 1:
            who.append(f"{self.colleagues} collègues")
        return {
            "name": self.name,
            "service": self.service,
            "declared_by": who,
            "nature": ", ".join(v for k, v in vocab.NATURES.items() if k in self.natures) or "—",
            "frequency": ", ".join(v for k, v in vocab.FREQUENCIES.items() if k in self.frequencies)
            or "—",
            "contacts": self.contacts,
        }


def _service_contact(service: Service) -> str:
    """A partner service's listed contact, only when it agreed to be listed."""
    if not service.contact_consent:
        return ""
    parts = [
        service.contact_name,
        service.contact_role,
        service.contact_phone,
        service.contact_email,
    ]
    return " — ".join(p for p in parts if p)


def welcome_sheet(
    session: Session, professional: Professional, today: date | None = None
) -> dict[str, Any]:
    """What a newcomer needs to know of their structure's network (see the module's doc).

    Keys: territory, structure, service, has_predecessor, partners (name, service,
    declared_by, nature, frequency, contacts), bodies (name, kind, how), conventions (title,
    kind, starts_on, ends_on, others), cited_by (names), cited_year, empty."""
    today = today or date.today()
    territory = session.get(Territory, professional.territory_id)
    roots, names = _roots(session, professional.territory_id)
    own = roots.get(professional.organisation_id, professional.organisation_id)
    tree = {i for i, root in roots.items() if root == own}
    own_service = session.get(Service, professional.service_id) if professional.service_id else None

    # Whose answers speak for the structure: the predecessor, then each colleague (anyone
    # else ever recorded in the structure, past or present), their latest submitted answer.
    sources: list[tuple[str, Response]] = []
    if professional.took_over_from_id is not None:
        found = _latest_submitted(
            session, professional.territory_id, professional.took_over_from_id
        )
        if found is not None:
            sources.append((PREDECESSOR, found))
    colleagues = session.exec(
        select(Professional)
        .where(
            col(Professional.organisation_id).in_(sorted(tree)),
            Professional.id != professional.id,
        )
        .order_by(col(Professional.id))
    ).all()
    for colleague in colleagues:
        if colleague.id == professional.took_over_from_id or colleague.id is None:
            continue
        found = _latest_submitted(session, professional.territory_id, colleague.id)
        if found is not None:
            sources.append((COLLEAGUE, found))

    partners: dict[tuple[int, int | None], _Partner] = {}
    declared_bodies: dict[int, str] = {}  # body id -> who named it (the predecessor first)
    for who, response in sources:
        links = session.exec(
            select(DeclaredLink)
            .where(
                DeclaredLink.response_id == response.id,
                col(DeclaredLink.status).in_(_COUNTED),
            )
            .order_by(col(DeclaredLink.position), col(DeclaredLink.id))
        ).all()
        for link in links:
            root = roots.get(link.partner_organisation_id)
            if root is None or root == own:
                continue
            key = (root, link.partner_service_id)
            partner = partners.get(key)
            if partner is None:
                service = (
                    session.get(Service, link.partner_service_id)
                    if link.partner_service_id
                    else None
                )
                partner = partners[key] = _Partner(names[root], service.name if service else "")
                if service is not None and (listed := _service_contact(service)):
                    partner.contacts.append(listed)
            if who == PREDECESSOR:
                if PREDECESSOR not in partner.declared_by:
                    partner.declared_by.insert(0, PREDECESSOR)
            else:
                partner.colleagues += 1
            if link.nature:
                partner.natures.add(link.nature)
            if link.frequency:
                partner.frequencies.add(link.frequency)
            # A name given on the link is shown only if that person agreed to be listed.
            if link.contact_consent and link.contact_name.strip():
                name = link.contact_name.strip()
                if name not in partner.contacts:
                    partner.contacts.append(name)
        for body_id in session.exec(
            select(ResponseBody.body_id).where(ResponseBody.response_id == response.id)
        ):
            declared_bodies.setdefault(body_id, who)

    official = set(
        session.exec(
            select(BodyMember.body_id).where(col(BodyMember.organisation_id).in_(sorted(tree)))
        ).all()
    )
    bodies = [
        {
            "name": body.name,
            "kind": vocab.BODY_KINDS.get(body.kind, body.kind),
            "how": "membre officiel"
            if body.id in official
            else f"indiquée par {declared_bodies[stored_id(body)]}",
        }
        for body in session.exec(
            select(Body)
            .where(
                col(Body.id).in_(sorted(official | set(declared_bodies))),
                Body.territory_id == professional.territory_id,
                col(Body.active).is_(True),
            )
            .order_by(col(Body.name))
        )
    ]

    conventions = []
    for convention in session.exec(
        select(Convention)
        .join(ConventionParty, col(ConventionParty.convention_id) == Convention.id)
        .where(
            col(ConventionParty.organisation_id).in_(sorted(tree)),
            Convention.territory_id == professional.territory_id,
            col(Convention.active).is_(True),
            col(Convention.starts_on) <= today,
        )
        .distinct()
        .order_by(col(Convention.starts_on), col(Convention.id))
    ):
        if convention.ends_on is not None and convention.ends_on < today:
            continue
        parties = session.exec(
            select(ConventionParty.organisation_id).where(
                ConventionParty.convention_id == convention.id
            )
        ).all()
        others = sorted({names[roots[p]] for p in parties if p in roots and roots[p] != own})
        conventions.append(
            {
                "title": convention.title or vocab.CONVENTION_KINDS.get(convention.kind, ""),
                "kind": vocab.CONVENTION_KINDS.get(convention.kind, convention.kind),
                "reference": convention.reference,
                "starts_on": convention.starts_on,
                "ends_on": convention.ends_on,
                "others": others,
            }
        )

    cited_year, cited_by = _cited_by(session, professional.territory_id, roots, names, own)
    partner_rows = sorted(
        (p.as_dict() for p in partners.values()), key=lambda p: (p["name"], p["service"])
    )
    return {
        "territory": territory.name if territory else "",
        "structure": names.get(own, ""),
        "service": own_service.name if own_service else "",
        "has_predecessor": professional.took_over_from_id is not None,
        "partners": partner_rows,
        "bodies": bodies,
        "conventions": conventions,
        "cited_by": cited_by,
        "cited_year": cited_year,
        "empty": not (partner_rows or bodies or conventions or cited_by),
    }


def _cited_by(
    session: Session, territory_id: int, roots: dict[int, int], names: dict[int, str], own: int
) -> tuple[int | None, list[str]]:
    """The structures whose submitted answers of the latest opened campaign name `own` (the
    in-edges of that year's graph, structures as they stand today), and that year."""
    campaign = session.exec(
        select(Campaign)
        .where(Campaign.territory_id == territory_id, Campaign.status != "draft")
        .order_by(col(Campaign.year).desc())
    ).first()
    if campaign is None:
        return None, []
    tree = sorted(i for i, root in roots.items() if root == own)
    rows = session.exec(
        select(Response.organisation_id)
        .join(DeclaredLink, col(DeclaredLink.response_id) == Response.id)
        .where(
            Response.campaign_id == campaign.id,
            Response.status == "submitted",
            col(DeclaredLink.status).in_(_COUNTED),
            col(DeclaredLink.partner_organisation_id).in_(tree),
        )
        .distinct()
    ).all()
    citing = {roots[o] for o in rows if o in roots and roots[o] != own}
    return campaign.year, sorted(names[o] for o in citing)
