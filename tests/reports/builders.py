"""A tiny builder for territories used by the reports tests (few rows, explicit answers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from survey import links, tagbits
from survey.models import (
    Campaign,
    DeclaredLink,
    LinkTag,
    Organisation,
    Professional,
    Response,
    ResponseObstacle,
    Service,
    Territory,
)
from tests.conftest import TEST_SECRET


@dataclass
class Builder:
    session: Session
    territory: Territory
    orgs: dict[str, Organisation] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    pros: dict[str, Professional] = field(default_factory=dict)

    @classmethod
    def start(cls, session: Session, code: str = "23", name: str = "Creuse") -> Builder:
        t = Territory(code=code, name=name)
        session.add(t)
        session.flush()
        return cls(session, t)

    def campaign(self, year: int, status: str = "closed") -> Campaign:
        c = Campaign(territory_id=self.territory.id, year=year, status=status)
        self.session.add(c)
        self.session.flush()
        return c

    def org(
        self,
        key: str,
        type_: str = "association",
        status: str = "active",
        merged_into: str | None = None,
    ) -> Organisation:
        o = Organisation(
            territory_id=self.territory.id,
            name=key.upper(),
            type=type_,
            commune="Guéret",
            status=status,
            merged_into_id=self.orgs[merged_into].id if merged_into else None,
        )
        self.session.add(o)
        self.session.flush()
        self.orgs[key] = o
        return o

    def service(self, key: str, org: str) -> Service:
        s = Service(organisation_id=self.orgs[org].id, name=key)
        self.session.add(s)
        self.session.flush()
        self.services[key] = s
        return s

    def pro(
        self, key: str, org: str, service: str | None = None, active: bool = True
    ) -> Professional:
        p = Professional(
            territory_id=self.territory.id,
            full_name=f"Personne {key.capitalize()}",
            email=f"{key}@example.org",
            organisation_id=self.orgs[org].id,
            service_id=self.services[service].id if service else None,
            active=active,
        )
        self.session.add(p)
        self.session.flush()
        self.pros[key] = p
        return p

    def invite(self, campaign: Campaign, *keys: str) -> None:
        for k in keys:
            links.issue(self.session, TEST_SECRET, campaign, self.pros[k])
        self.session.flush()

    def respond(
        self,
        campaign: Campaign,
        pro: str,
        partners: list[dict],
        status: str = "submitted",
        obstacles: tuple[str, ...] = (),
    ) -> Response:
        """partners: dicts with `org` (key) and optional service, nature, frequency, status,
        quality, practices, thematiques, frames, channels."""
        p = self.pros[pro]
        r = Response(
            campaign_id=campaign.id,
            professional_id=p.id,
            organisation_id=p.organisation_id,
            service_id=p.service_id,
            status=status,
            questionnaire_version="2026.1",
        )
        self.session.add(r)
        self.session.flush()
        for code in obstacles:
            self.session.add(ResponseObstacle(response_id=r.id, code=code))
        for i, spec in enumerate(partners):
            link = DeclaredLink(
                response_id=r.id,
                position=i,
                partner_organisation_id=self.orgs[spec["org"]].id,
                partner_service_id=self.services[spec["service"]].id
                if spec.get("service")
                else None,
                status=spec.get("status", "new"),
                nature=spec.get("nature"),
                frequency=spec.get("frequency"),
                quality=spec.get("quality"),
                # The tags written below, as bits: what the questionnaire writes.
                tag_bits=tagbits.tag_bits(
                    (kind, code)
                    for kind in ("practice", "thematique", "frame", "channel")
                    for code in spec.get(kind + "s", ())
                ),
            )
            self.session.add(link)
            self.session.flush()
            for kind in ("practice", "thematique", "frame", "channel"):
                for code in spec.get(kind + "s", ()):
                    self.session.add(LinkTag(link_id=link.id, kind=kind, code=code))
        self.session.flush()
        return r
