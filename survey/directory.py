"""The directory of structures and services of a territory."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from survey import vocab
from survey.models import Organisation, Service


@dataclass
class PartnerChoice:
    organisation: Organisation
    services: list[Service] = field(default_factory=list)


@dataclass
class TypeGroup:
    type: str
    label: str
    choices: list[PartnerChoice] = field(default_factory=list)


def partner_groups(
    session: Session, territory_id: int, include_ids: set[int] | None = None
) -> list[TypeGroup]:
    """Active structures of the territory (plus `include_ids`, e.g. the respondent's own
    proposed ones), grouped by type label, each with its active services."""
    include_ids = include_ids or set()
    orgs = list(
        session.exec(
            select(Organisation).where(
                Organisation.territory_id == territory_id,
                (Organisation.status == "active") | col(Organisation.id).in_(include_ids),
            )
        )
    )
    services: dict[int, list[Service]] = {}
    if orgs:
        for svc in session.exec(
            select(Service)
            .where(col(Service.organisation_id).in_([o.id for o in orgs]), Service.active)
            .order_by(Service.name)
        ):
            services.setdefault(svc.organisation_id, []).append(svc)
    groups: dict[str, TypeGroup] = {}
    for org in orgs:
        group = groups.setdefault(org.type, TypeGroup(org.type, vocab.org_type_label(org.type)))
        group.choices.append(PartnerChoice(org, services.get(org.id, [])))
    for group in groups.values():
        group.choices.sort(key=lambda c: c.organisation.name.lower())
    return sorted(groups.values(), key=lambda g: g.label.lower())
