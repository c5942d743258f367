"""The directory of structures and services of a territory.

Create, edit, archive; confirm structures proposed by respondents; merge duplicates (every
reference re-pointed in set-based SQL, nothing lost); import and export as tables.

Functions here never commit: the caller adds its audit event and commits, so one user action
is one transaction. Invalid input raises `Invalid` (French message per field); a refused
action raises `Refused` (one French sentence).
"""

from __future__ import annotations

import re
import typing
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Integer, and_, bindparam, case, cast, delete, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from survey import fields, similarity, vocab
from survey.db import changed_rows, stored_id, table_of
from survey.models import (
    DeclaredLink,
    LinkTag,
    Organisation,
    Professional,
    Response,
    Service,
)
from survey.tabular import Table, missing_columns
from survey.text import field_problems, row_problems

SERVICE_SEPARATOR = "|"
STATUS_LABELS = {
    "active": "Active",
    "proposed": "Proposée",
    "archived": "Archivée",
    "merged": "Fusionnée",
}


class Invalid(Exception):
    """Field errors: {field name: French message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Refused(Exception):
    """An action the rules do not allow; the message is French and shown as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# The fields as their forms name them, for survey.text's refusals.
STRUCTURE_LABELS = {"name": "Nom de la structure", "type": "Type de structure",
                    "commune": "Commune", "siret": "SIRET", "missions": "Missions"}  # fmt: skip
SERVICE_LABELS = {"name": "Nom du service", "contact_role": "Rôle", "contact_name": "Nom",
                  "contact_phone": "Téléphone", "contact_email": "E-mail"}  # fmt: skip


def refuse_invisible(data: object, labels: dict[str, str]) -> None:
    """Invalid when a text field holds a character survey.text refuses. Checked on what was
    sent, before `cleaned()`: str.split() would fold U+001C-U+001F into spaces."""
    errors = field_problems(vars(data), labels)
    if errors:
        raise Invalid(errors)


def normalize_name(name: str) -> str:
    """The key names are compared and sorted on: case, accents, ligatures, punctuation and
    spacing do not count ('CCAS de Guéret' == 'ccas de gueret', « l’Œuvre » == "l'oeuvre",
    « C.C.A.S. » == « c c a s »); letters and digits of every script are kept (a name in
    Greek, Arabic or Cyrillic is not folded to nothing). Stored as `ZoneCommune.key`."""
    # Ligatures NFKD leaves whole are spelt out: « Œuvre » and « Oeuvre » fold alike.
    text = unicodedata.normalize("NFKD", name.translate(similarity.SPELT_OUT))
    folded = "".join(
        " " if unicodedata.category(ch)[0] in "PSZC" else ch
        for ch in text
        if not unicodedata.combining(ch)
    )
    return " ".join(folded.casefold().split())


# --- a territory's structures, merges followed ----------------------------------------------


@dataclass
class TerritoryStructures:
    """The territory's structures by id, each read as it is now (merges followed): what the
    instance, convention and engagement forms choose from and check against."""

    by_id: dict[int, Organisation]

    @classmethod
    def load(cls, session: Session, territory_id: int) -> typing.Self:
        orgs = session.exec(select(Organisation).where(Organisation.territory_id == territory_id))
        return cls({stored_id(o): o for o in orgs})

    def canonical(self, org_id: int | None) -> Organisation | None:
        """The structure `org_id` is now: itself, or the one it was merged into."""
        org = self.by_id.get(org_id) if org_id is not None else None
        seen: set[int] = set()
        while org is not None and org.status == "merged" and org.merged_into_id is not None:
            if org.merged_into_id in seen:  # a loop would be a bug elsewhere: name nothing
                return None
            seen.add(org.merged_into_id)
            org = self.by_id.get(org.merged_into_id)
        return None if org is None or org.status == "merged" else org

    def choices(
        self, include_ids: Iterable[int] = ()
    ) -> list[tuple[vocab.Family, list[Organisation]]]:
        """The active structures, plus `include_ids` (chosen before, kept listed once
        archived so that saving keeps them), grouped by family in vocab.FAMILIES order and
        sorted by name: a form's checkboxes."""
        kept = {o.id for i in include_ids if (o := self.canonical(i))}
        groups: dict[str, list[Organisation]] = {}
        for org in self.by_id.values():
            if org.status == "active" or org.id in kept:
                groups.setdefault(vocab.family_of(org.type).code, []).append(org)
        return [
            (family, sorted(groups[family.code], key=lambda o: normalize_name(o.name)))
            for family in vocab.FAMILIES
            if family.code in groups
        ]


# --- the partner list of the questionnaire -------------------------------------------------


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
                (col(Organisation.status) == "active") | col(Organisation.id).in_(include_ids),
            )
        )
    )
    services = active_services(session, [stored_id(o) for o in orgs])
    groups: dict[str, TypeGroup] = {}
    for org in orgs:
        group = groups.setdefault(org.type, TypeGroup(org.type, vocab.org_type_label(org.type)))
        group.choices.append(PartnerChoice(org, services.get(stored_id(org), [])))
    for group in groups.values():
        group.choices.sort(key=lambda c: c.organisation.name.lower())
    return sorted(groups.values(), key=lambda g: g.label.lower())


def active_services(session: Session, org_ids: list[int]) -> dict[int, list[Service]]:
    """Active services of the given structures, by structure id, sorted by name."""
    out: dict[int, list[Service]] = {}
    if not org_ids:
        return out
    for svc in session.exec(
        select(Service)
        .where(col(Service.organisation_id).in_(org_ids), Service.active)
        .order_by(Service.name)
    ):
        out.setdefault(svc.organisation_id, []).append(svc)
    return out


# --- checking ------------------------------------------------------------------------------


def normalize_siret(raw: str) -> str:
    """Digits only: '123 456 789 00012' -> '12345678900012'."""
    return "".join(ch for ch in raw if not ch.isspace() and ch not in ".-")


def siret_is_valid(siret: str) -> bool:
    """14 digits passing the Luhn check (La Poste's establishments use their own rule)."""
    if len(siret) != 14 or not siret.isascii() or not siret.isdigit():
        return False
    if siret.startswith("356000000"):
        return sum(int(d) for d in siret) % 5 == 0
    total = 0
    for i, ch in enumerate(reversed(siret)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def org_type_code(value: str) -> str | None:
    """A type code from a code or a label as a person would type it ('CAF', 'caf', 'MSA')."""
    value = value.strip()
    if value in vocab.ORG_TYPES:
        return value
    key = normalize_name(value)
    for code, label in vocab.ORG_TYPES.items():
        if key in (normalize_name(code), normalize_name(label)):
            return code
    return None


@dataclass
class StructureData:
    """What a form or an import line gives for a structure."""

    name: str = ""
    type: str = ""
    commune: str = ""
    siret: str = ""
    missions: str = ""

    def cleaned(self) -> StructureData:
        return StructureData(
            name=" ".join(self.name.split()),
            type=self.type.strip(),
            commune=" ".join(self.commune.split()),
            siret=normalize_siret(self.siret),
            missions=self.missions.strip(),
        )


@dataclass
class _Index:
    """The territory's structures (except merged ones) by name key and by SIRET."""

    by_name: dict[str, Organisation]
    by_siret: dict[str, Organisation]

    @classmethod
    def load(cls, session: Session, territory_id: int) -> _Index:
        orgs = session.exec(
            select(Organisation)
            .where(Organisation.territory_id == territory_id, Organisation.status != "merged")
            .order_by(col(Organisation.id))
        ).all()
        return cls(
            by_name={normalize_name(o.name): o for o in orgs},
            by_siret={o.siret: o for o in orgs if o.siret},
        )


def _same_name(session: Session, territory_id: int, name: str, exclude_id: int | None):
    twin = _Index.load(session, territory_id).by_name.get(normalize_name(name))
    return None if twin is None or twin.id == exclude_id else twin


def check_structure(
    session: Session,
    territory_id: int,
    data: StructureData,
    current_id: int | None = None,
    index: _Index | None = None,
) -> dict[str, str]:
    """Problems with `data` (already cleaned), by field; empty when it can be saved."""
    index = index or _Index.load(session, territory_id)
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = "Indiquez le nom de la structure."
    elif len(data.name) > 200:
        errors["name"] = "Le nom est trop long : 200 caractères au maximum."
    else:
        twin = index.by_name.get(normalize_name(data.name))
        if twin is not None and twin.id != current_id:
            errors["name"] = (
                f"Une structure porte déjà ce nom : « {twin.name} » "
                f"({STATUS_LABELS.get(twin.status, twin.status).lower()})."
            )
    if data.type not in vocab.ORG_TYPES:
        errors["type"] = "Choisissez un type de structure dans la liste."
    if len(data.commune) > 120:
        errors["commune"] = "Le nom de la commune est trop long : 120 caractères au maximum."
    if data.siret:
        if not (len(data.siret) == 14 and data.siret.isascii() and data.siret.isdigit()):
            errors["siret"] = "Le SIRET compte 14 chiffres (ou laissez le champ vide)."
        elif not siret_is_valid(data.siret):
            errors["siret"] = "Ce SIRET n'est pas valide : vérifiez les chiffres."
        else:
            other = index.by_siret.get(data.siret)
            if other is not None and other.id != current_id:
                errors["siret"] = f"Ce SIRET est déjà celui de « {other.name} »."
    if len(data.missions) > 5000:
        errors["missions"] = "Les missions sont trop longues : 5 000 caractères au maximum."
    return errors


def types_in_use(session: Session, territory_id: int) -> list[str]:
    """The structure types of the territory's structures (merged ones left out)."""
    return list(
        session.exec(
            select(Organisation.type)
            .where(
                Organisation.territory_id == territory_id,
                col(Organisation.merged_into_id).is_(None),
            )
            .distinct()
        ).all()
    )


def get_structure(session: Session, territory_id: int, org_id: int) -> Organisation | None:
    """The structure if it belongs to the territory (never another territory's)."""
    org = session.get(Organisation, org_id)
    if org is None or org.territory_id != territory_id:
        return None
    return org


# --- structures ----------------------------------------------------------------------------


def create_structure(
    session: Session, territory_id: int, data: StructureData, status: str = "active"
) -> Organisation:
    refuse_invisible(data, STRUCTURE_LABELS)
    data = data.cleaned()
    errors = check_structure(session, territory_id, data)
    if errors:
        raise Invalid(errors)
    org = Organisation(
        territory_id=territory_id,
        name=data.name,
        type=data.type,
        commune=data.commune,
        siret=data.siret or None,
        missions=data.missions,
        status=status,
    )
    session.add(org)
    session.flush()
    return org


def update_structure(session: Session, org: Organisation, data: StructureData) -> Organisation:
    if org.status == "merged":
        raise Refused("Cette structure a été fusionnée : modifiez celle qui l'a absorbée.")
    refuse_invisible(data, STRUCTURE_LABELS)
    data = data.cleaned()
    errors = check_structure(session, org.territory_id, data, current_id=org.id)
    if errors:
        raise Invalid(errors)
    org.name, org.type, org.commune = data.name, data.type, data.commune
    org.siret, org.missions = data.siret or None, data.missions
    session.add(org)
    session.flush()
    return org


def archive_structure(session: Session, org: Organisation) -> None:
    """Archived structures leave the questionnaire's list; past answers keep naming them."""
    if org.status not in ("active", "proposed"):
        raise Refused("Seule une structure active ou proposée peut être archivée.")
    active_pros = session.exec(
        select(func.count())
        .select_from(Professional)
        .where(Professional.organisation_id == org.id, Professional.active)
    ).one()
    if active_pros:
        raise Refused(
            f"{active_pros} professionnel·le(s) actif·ve(s) y sont rattaché·e·s : "
            "rattachez-les à une autre structure ou indiquez leur départ avant d'archiver."
        )
    org.status = "archived"
    session.add(org)
    session.flush()


def restore_structure(session: Session, org: Organisation) -> None:
    if org.status != "archived":
        raise Refused("Seule une structure archivée peut être réactivée.")
    twin = _same_name(session, org.territory_id, org.name, org.id)
    if twin is not None and twin.status == "active":
        raise Refused(f"Une structure active porte déjà ce nom : « {twin.name} ».")
    org.status = "active"
    session.add(org)
    session.flush()


def confirm_structure(session: Session, org: Organisation, data: StructureData) -> None:
    """A structure proposed by a respondent enters the directory, possibly corrected."""
    if org.status != "proposed":
        raise Refused("Cette structure n'est pas (ou plus) en attente de confirmation.")
    update_structure(session, org, data)
    org.status = "active"
    session.add(org)
    session.flush()


@dataclass
class StructureRow:
    organisation: Organisation
    type_label: str
    services: int = 0
    professionals: int = 0
    mentions: int = 0  # declared links naming it, every year


def list_structures(
    session: Session,
    territory_id: int,
    q: str = "",
    type: str = "",
    statuses: tuple[str, ...] = ("active",),
) -> list[StructureRow]:
    """Structures of the territory with their counts (SQL), filtered by type and by an
    accent-insensitive search on name, commune and missions, sorted by name.

    A territory's directory holds hundreds of rows at most, so the accent-insensitive search
    runs in Python on the already scoped list rather than in dialect-specific SQL.
    """
    stmt = select(Organisation).where(
        Organisation.territory_id == territory_id, col(Organisation.status).in_(statuses)
    )
    if type:
        stmt = stmt.where(Organisation.type == type)
    orgs = list(session.exec(stmt))
    if q.strip():
        words = normalize_name(q).split()
        orgs = [
            o
            for o in orgs
            if all(w in normalize_name(f"{o.name} {o.commune} {o.missions}") for w in words)
        ]
    ids = [stored_id(o) for o in orgs]
    counts = _counts(session, ids)
    rows = [
        StructureRow(
            o,
            vocab.org_type_label(o.type),
            services=counts["services"].get(stored_id(o), 0),
            professionals=counts["professionals"].get(stored_id(o), 0),
            mentions=counts["mentions"].get(stored_id(o), 0),
        )
        for o in orgs
    ]
    return sorted(rows, key=lambda r: normalize_name(r.organisation.name))


def _counts(session: Session, ids: list[int]) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {"services": {}, "professionals": {}, "mentions": {}}
    if not ids:
        return out
    queries = {
        "services": sa_select(col(Service.organisation_id), func.count())
        .where(col(Service.organisation_id).in_(ids), col(Service.active))
        .group_by(col(Service.organisation_id)),
        "professionals": sa_select(col(Professional.organisation_id), func.count())
        .where(col(Professional.organisation_id).in_(ids), col(Professional.active))
        .group_by(col(Professional.organisation_id)),
        "mentions": sa_select(col(DeclaredLink.partner_organisation_id), func.count())
        .where(col(DeclaredLink.partner_organisation_id).in_(ids))
        .group_by(col(DeclaredLink.partner_organisation_id)),
    }
    for key, stmt in queries.items():
        out[key] = {org_id: n for org_id, n in session.execute(stmt).all()}
    return out


def proposed_structures(session: Session, territory_id: int) -> list[StructureRow]:
    return list_structures(session, territory_id, statuses=("proposed",))


def merge_suggestions(session: Session, org: Organisation) -> list[Organisation]:
    """The active structures of `org`'s territory whose name is really alike (« Ressemble
    à »), most alike first: see survey.similarity.suggestion_score. Often empty."""
    return [o for o, _ in _alike(session, org)]


def merge_candidates(session: Session, org: Organisation) -> list[Organisation]:
    """Structures `org` can be merged into: every active one of its territory, the
    look-alikes first (most alike first), then the others by name."""
    alike = [o for o, _ in _alike(session, org)]
    ids = {o.id for o in alike}
    rest = sorted(
        (o for o in _other_active(session, org) if o.id not in ids),
        key=lambda o: normalize_name(o.name),
    )
    return alike + rest


def _other_active(session: Session, org: Organisation) -> list[Organisation]:
    return list(
        session.exec(
            select(Organisation).where(
                Organisation.territory_id == org.territory_id,
                Organisation.status == "active",
                Organisation.id != org.id,
            )
        )
    )


def _alike(session: Session, org: Organisation) -> list[tuple[Organisation, float]]:
    from survey.models import Territory

    territory = session.get(Territory, org.territory_id)
    others = _other_active(session, org)
    communes = {o.commune for o in others if o.commune}
    names = [territory.name] if territory else []
    # « UDAF 23 » is « UDAF de la Creuse »: the département's number stands for its name.
    aliases = {territory.code.lower(): territory.name} if territory else {}

    def named(o: Organisation) -> similarity.Named:
        family = vocab.family_of(o.type)
        return similarity.Named(o.name, "" if family is vocab.OTHER else family.code, o.commune)

    me = named(org)
    scored = []
    for o in others:
        score = similarity.suggestion_score(me, named(o), communes, names, aliases)
        if score is not None:
            scored.append((o, score))
    return sorted(scored, key=lambda pair: (-pair[1], normalize_name(pair[0].name)))


# --- services ------------------------------------------------------------------------------


@dataclass
class ServiceData:
    name: str = ""
    contact_role: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    contact_consent: bool = False

    def cleaned(self) -> ServiceData:
        return ServiceData(
            name=" ".join(self.name.split()),
            contact_role=" ".join(self.contact_role.split()),
            contact_name=" ".join(self.contact_name.split()),
            contact_phone=" ".join(self.contact_phone.split()),
            contact_email=self.contact_email.strip(),
            contact_consent=bool(self.contact_consent),
        )


def email_is_valid(email: str) -> bool:
    """A plausible address: one @, a dotted domain, no spaces. Deliverability is not checked."""
    if len(email) > 200 or " " in email or email.count("@") != 1:
        return False
    local, domain = email.split("@")
    return bool(local) and "." in domain.strip(".") and ".." not in domain


def check_service(
    session: Session, org: Organisation, data: ServiceData, current_id: int | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = "Indiquez le nom du service."
    elif len(data.name) > 200:
        errors["name"] = "Le nom est trop long : 200 caractères au maximum."
    else:
        key = normalize_name(data.name)
        for svc in session.exec(
            select(Service).where(Service.organisation_id == org.id, Service.active)
        ):
            if svc.id != current_id and normalize_name(svc.name) == key:
                errors["name"] = "Cette structure a déjà un service de ce nom."
    limits = {"contact_role": 120, "contact_name": 120, "contact_phone": 40}
    for name, limit in limits.items():
        if len(getattr(data, name)) > limit:
            errors[name] = f"Texte trop long : {limit} caractères au maximum."
    if data.contact_phone and not all(ch in "0123456789 +.()-" for ch in data.contact_phone):
        errors["contact_phone"] = "Un numéro de téléphone ne contient que des chiffres."
    if data.contact_email and not email_is_valid(data.contact_email):
        errors["contact_email"] = (
            "Cette adresse e-mail n'est pas valide (exemple : nom@domaine.fr)."
        )
    has_contact = data.contact_name or data.contact_phone or data.contact_email
    if data.contact_consent and not has_contact:
        errors["contact_consent"] = "Indiquez le contact avant de cocher son accord."
    return errors


def services_of(session: Session, org: Organisation) -> list[Service]:
    """All the structure's services, archived ones too, by name."""
    return list(
        session.exec(
            select(Service).where(Service.organisation_id == org.id).order_by(col(Service.name))
        ).all()
    )


def get_service(session: Session, org: Organisation, service_id: int) -> Service | None:
    svc = session.get(Service, service_id)
    if svc is None or svc.organisation_id != org.id:
        return None
    return svc


def add_service(session: Session, org: Organisation, data: ServiceData) -> Service:
    if org.status == "merged":
        raise Refused(
            "Cette structure a été fusionnée : ajoutez le service à celle qui l'a absorbée."
        )
    refuse_invisible(data, SERVICE_LABELS)
    data = data.cleaned()
    errors = check_service(session, org, data)
    if errors:
        raise Invalid(errors)
    svc = Service(organisation_id=stored_id(org), **data.__dict__)
    session.add(svc)
    session.flush()
    return svc


def update_service(session: Session, svc: Service, data: ServiceData) -> Service:
    org = session.get(Organisation, svc.organisation_id)
    assert org is not None  # a service belongs to a stored structure
    refuse_invisible(data, SERVICE_LABELS)
    data = data.cleaned()
    errors = check_service(session, org, data, current_id=svc.id)
    if errors:
        raise Invalid(errors)
    for key, value in data.__dict__.items():
        setattr(svc, key, value)
    session.add(svc)
    session.flush()
    return svc


def archive_service(session: Session, svc: Service) -> None:
    """An archived service leaves the lists; answers that named it keep pointing at it."""
    svc.active = False
    session.add(svc)
    session.flush()


# --- merge ---------------------------------------------------------------------------------


@dataclass
class MergeReport:
    professionals: int = 0
    responses: int = 0
    links: int = 0
    links_collapsed: int = 0
    services_moved: int = 0
    services_mapped: int = 0


def merge_structures(session: Session, absorbed: Organisation, target: Organisation) -> MergeReport:
    """Fold `absorbed` into `target`: professionals, responses and declared links re-pointed,
    services moved (or mapped onto the target's service of the same name), and the absorbed
    structure kept as "merged" with `merged_into_id`, so history stays explainable.

    A response that named both structures would now name the same partner twice: those links
    are collapsed into the richer one, which also receives what only the other one said.
    Everything is flushed in the caller's transaction; nothing is committed here.
    """
    if absorbed.id == target.id:
        raise Refused(
            "Choisissez une autre structure : on ne fusionne pas une structure avec elle-même."
        )
    if absorbed.territory_id != target.territory_id:
        raise Refused("Ces deux structures ne sont pas du même territoire : fusion impossible.")
    if absorbed.status == "merged":
        raise Refused("Cette structure a déjà été fusionnée.")
    if target.status != "active":
        raise Refused(
            "La structure qui absorbe doit être active (confirmez-la ou réactivez-la d'abord)."
        )

    report = MergeReport()
    session.flush()
    mapping = _map_services(session, absorbed, target, report)

    # Services of the same name: every reference moves to the target's service.
    if mapping:
        for model, column in (
            (Professional, Professional.service_id),
            (Response, Response.service_id),
            (DeclaredLink, DeclaredLink.partner_service_id),
        ):
            session.execute(
                update(model)
                .where(col(column).in_(list(mapping)))
                .values({column.key: case(mapping, value=column)})  # type: ignore[union-attr]
                .execution_options(synchronize_session=False)
            )
    # The other services move over with their contacts.
    moved = session.execute(
        update(Service)
        .where(
            col(Service.organisation_id) == absorbed.id,
            col(Service.id).not_in(list(mapping) or [-1]),
        )
        .values(organisation_id=target.id)
        .execution_options(synchronize_session=False)
    )
    report.services_moved = changed_rows(moved)

    report.professionals = _repoint(
        session, Professional, Professional.organisation_id, absorbed, target
    )
    report.responses = _repoint(session, Response, Response.organisation_id, absorbed, target)
    report.links = _repoint(
        session, DeclaredLink, DeclaredLink.partner_organisation_id, absorbed, target
    )
    # Structures merged earlier into the absorbed one now point at the final target.
    _repoint(session, Organisation, Organisation.merged_into_id, absorbed, target)

    report.links_collapsed = _collapse_duplicate_links(session, stored_id(target))

    for name in ("commune", "missions"):
        if not getattr(target, name) and getattr(absorbed, name):
            setattr(target, name, getattr(absorbed, name))
    if not target.siret and absorbed.siret:
        target.siret = absorbed.siret
        absorbed.siret = None
    absorbed.status = "merged"
    absorbed.merged_into_id = target.id
    session.add_all([absorbed, target])
    session.flush()
    session.expire_all()
    return report


def _repoint(session: Session, model, column, absorbed: Organisation, target: Organisation) -> int:
    result = session.execute(
        update(model)
        .where(column == absorbed.id)
        .values({column.key: target.id})
        .execution_options(synchronize_session=False)
    )
    return changed_rows(result)


def _map_services(
    session: Session, absorbed: Organisation, target: Organisation, report: MergeReport
) -> dict[int, int]:
    """{absorbed service id: target service id} for services of the same name; the absorbed
    twin is deactivated after lending the target any contact detail it lacked."""
    target_by_name = {
        normalize_name(s.name): s
        for s in session.exec(select(Service).where(Service.organisation_id == target.id))
    }
    mapping: dict[int, int] = {}
    for svc in session.exec(select(Service).where(Service.organisation_id == absorbed.id)):
        twin = target_by_name.get(normalize_name(svc.name))
        if twin is None:
            continue
        mapping[stored_id(svc)] = stored_id(twin)
        if not (twin.contact_name or twin.contact_phone or twin.contact_email):
            for name in ("contact_role", "contact_name", "contact_phone", "contact_email",
                         "contact_consent"):  # fmt: skip
                setattr(twin, name, getattr(svc, name))
        if svc.active and not twin.active:
            twin.active = True
        svc.active = False
        session.add_all([svc, twin])
    report.services_mapped = len(mapping)
    session.flush()
    return mapping


_STATUS_RANK = case(
    (col(DeclaredLink.status) == "ended", 0), (col(DeclaredLink.status) == "pending", 1), else_=2
)


def _collapse_duplicate_links(session: Session, target_id: int) -> int:
    """Within each response, keep one link per (partner, service) and delete the others.

    The kept link is the richest (an active status first, then the most answers given); it
    takes over what the dropped one alone said: tags, empty fields, formal+informal -> both.
    Duplicates only arise in responses that named both merged structures, so the rows
    handled here are few; the search for them is one grouped query.
    """
    tag_count = (
        sa_select(func.count())
        .select_from(LinkTag)
        .where(col(LinkTag.link_id) == DeclaredLink.id)
        .scalar_subquery()
    )
    # Answers given: every coded answer, and a named contact.
    filled = sum(
        case((col(getattr(DeclaredLink, f.name)).is_(None), 0), else_=1)
        for f in fields.link_columns()
        if f.kind in ("code", "int")
    ) + sum(
        case((col(getattr(DeclaredLink, f.name)) == "", 0), else_=1)
        for f in fields.LINK_FIELDS
        if f.merge == "contact"
    )
    duplicated = (
        sa_select(col(DeclaredLink.response_id), col(DeclaredLink.partner_service_id))
        .where(col(DeclaredLink.partner_organisation_id) == target_id)
        .group_by(col(DeclaredLink.response_id), col(DeclaredLink.partner_service_id))
        .having(func.count() > 1)
        .subquery()
    )
    rows = session.execute(
        sa_select(
            col(DeclaredLink.id),
            col(DeclaredLink.response_id),
            col(DeclaredLink.partner_service_id),
        )
        .join(
            duplicated,
            (duplicated.c.response_id == DeclaredLink.response_id)
            & (
                (duplicated.c.partner_service_id == DeclaredLink.partner_service_id)
                | (
                    duplicated.c.partner_service_id.is_(None)
                    & col(DeclaredLink.partner_service_id).is_(None)
                )
            ),
        )
        .where(col(DeclaredLink.partner_organisation_id) == target_id)
        .order_by(
            col(DeclaredLink.response_id),
            col(DeclaredLink.partner_service_id),
            _STATUS_RANK.desc(),
            (tag_count + filled).desc(),
            col(DeclaredLink.position),
            col(DeclaredLink.id),
        )
    ).all()
    pairs: list[tuple[int, int]] = []  # (dropped, kept)
    keeper: dict[tuple, int] = {}
    for link_id, response_id, service_id in rows:
        key = (response_id, service_id)
        if key in keeper:
            pairs.append((link_id, keeper[key]))
        else:
            keeper[key] = link_id
    if not pairs:
        return 0

    for dropped_id, kept_id in pairs:
        kept, dropped = session.get(DeclaredLink, kept_id), session.get(DeclaredLink, dropped_id)
        assert kept is not None and dropped is not None  # found by the query above
        _fold_link(kept, dropped)
        # The tag rows are united in SQL below: their bits are united here.
        kept.tag_bits |= dropped.tag_bits
    session.flush()
    params = [{"dropped": d, "kept": k} for d, k in pairs]
    lt = table_of(LinkTag)
    existing = lt.alias("existing")
    session.execute(
        insert(lt).from_select(
            ["link_id", "kind", "code"],
            sa_select(cast(bindparam("kept"), Integer), lt.c.kind, lt.c.code)
            .where(lt.c.link_id == bindparam("dropped"))
            .where(
                ~sa_select(existing.c.link_id)
                .where(
                    existing.c.link_id == cast(bindparam("kept"), Integer),
                    existing.c.kind == lt.c.kind,
                    existing.c.code == lt.c.code,
                )
                .exists()
            ),
        ),
        params,
    )
    dropped_ids = [d for d, _ in pairs]
    kept_of = dict(pairs)
    session.execute(
        update(DeclaredLink)
        .where(col(DeclaredLink.carried_from_id).in_(dropped_ids))
        .values(carried_from_id=case(kept_of, value=DeclaredLink.carried_from_id))
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(LinkTag).where(col(LinkTag.link_id).in_(dropped_ids)))
    session.execute(
        delete(DeclaredLink)
        .where(col(DeclaredLink.id).in_(dropped_ids))
        .execution_options(synchronize_session=False)
    )
    return len(pairs)


def _fold_link(kept: DeclaredLink, dropped: DeclaredLink) -> None:
    """What only `dropped` said goes into `kept`, each question as the registry says it
    merges (tags, « union », are merged in SQL by the caller)."""
    for f in fields.link_columns():
        mine, theirs = getattr(kept, f.name), getattr(dropped, f.name)
        if f.merge == "both" and mine and theirs and mine != theirs:
            setattr(kept, f.name, "both")
        elif f.merge in ("first", "both") and mine is None and theirs is not None:
            setattr(kept, f.name, theirs)
        elif f.merge == "contact" and not mine and theirs:
            setattr(kept, f.name, theirs)
            for other in fields.LINK_FIELDS:
                if other.merge == "with_contact":
                    setattr(kept, other.name, getattr(dropped, other.name))
            kept.has_named_contact = True
        elif f.merge == "joined" and theirs and theirs not in mine:
            setattr(kept, f.name, " ; ".join(p for p in (mine, theirs) if p)[:500])
    if kept.carried_from_id is None and dropped.carried_from_id is not None:
        kept.carried_from_id = dropped.carried_from_id
    if kept.carried_from_id == dropped.id:
        kept.carried_from_id = dropped.carried_from_id


# --- import and export ---------------------------------------------------------------------

STRUCTURE_COLUMNS = ["nom", "type", "commune", "siret", "missions", "services"]
STRUCTURE_ALIASES = {
    "structure": "nom",
    "name": "nom",
    "raisonsociale": "nom",
    "ville": "commune",
    "typedestructure": "type",
    "mission": "missions",
    "service": "services",
}


@dataclass
class ImportLine:
    """One data line of an uploaded file: what it says, its problems, what it would do."""

    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    action: str = ""  # create | update (structures) ; create (professionals)
    note: str = ""


@dataclass
class ImportPreview:
    lines: list[ImportLine] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.lines) and not self.error_lines

    @property
    def error_lines(self) -> list[ImportLine]:
        return [line for line in self.lines if line.errors]

    def count(self, action: str) -> int:
        return sum(1 for line in self.lines if line.action == action and not line.errors)


def split_services(cell: str) -> list[str]:
    """'115 | Centre de jour' -> ['115', 'Centre de jour'] (duplicates removed, order kept)."""
    out: dict[str, str] = {}
    for part in cell.split(SERVICE_SEPARATOR):
        name = " ".join(part.split())
        if name:
            out.setdefault(normalize_name(name), name)
    return list(out.values())


def preview_structure_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check every line against the directory and the rest of the file; writes nothing.

    A line whose name is already in the directory updates that structure: columns present in
    the file replace its values (an empty type keeps the current one), services are added,
    never removed (past answers point at them). Other lines create structures.
    """
    preview = ImportPreview()
    missing = missing_columns(table, ["nom"])
    if missing:
        preview.file_errors.append(
            "Colonne obligatoire absente : « nom ». La première ligne doit donner les noms des "
            "colonnes : " + ", ".join(STRUCTURE_COLUMNS) + "."
        )
        return preview
    if not table.rows:
        preview.file_errors.append("Le fichier ne contient aucune ligne de données.")
        return preview
    index = _Index.load(session, territory_id)
    seen_names: dict[str, int] = {}
    seen_sirets: dict[str, int] = {}
    for number, row in table.numbered():
        line = ImportLine(number, {k: row.get(k, "") for k in STRUCTURE_COLUMNS})
        preview.lines.append(line)
        if refused := row_problems(row):
            line.errors.extend(refused)
            continue  # a line that cannot be stored as it is: nothing more to check
        existing = index.by_name.get(normalize_name(row.get("nom", "")))
        data = _structure_data(row, existing)
        type_given = row.get("type", "").strip()
        if type_given and org_type_code(type_given) is None:
            line.errors.append(f"Type « {type_given[:60]} » inconnu : voir la liste des types.")
        errors = check_structure(
            session, territory_id, data, existing.id if existing else None, index
        )
        line.errors.extend(msg for key, msg in errors.items() if key != "type" or not type_given)
        key = normalize_name(data.name)
        if key and key in seen_names:
            line.errors.append(f"Cette structure figure déjà ligne {seen_names[key]}.")
        seen_names.setdefault(key, number)
        if data.siret and "siret" not in errors:
            if data.siret in seen_sirets:
                line.errors.append(f"Ce SIRET figure déjà ligne {seen_sirets[data.siret]}.")
            seen_sirets.setdefault(data.siret, number)
        for name in split_services(row.get("services", "")):
            if len(name) > 200:
                line.errors.append("Un nom de service dépasse 200 caractères.")
        if existing is not None:
            line.action = "update"
            if existing.status != "active":
                line.note = f"structure {STATUS_LABELS[existing.status].lower()}"
        else:
            line.action = "create"
    return preview


def _structure_data(row: dict[str, str], existing: Organisation | None) -> StructureData:
    def value(column: str, current: str) -> str:
        return row.get(column, current)

    type_given = row.get("type", "").strip()
    type_code = org_type_code(type_given) if type_given else None
    if existing is not None:
        return StructureData(
            name=row["nom"],
            type=type_code or existing.type,
            commune=value("commune", existing.commune),
            siret=value("siret", existing.siret or ""),
            missions=value("missions", existing.missions),
        ).cleaned()
    return StructureData(
        name=row["nom"],
        type=type_code or "autre",
        commune=row.get("commune", ""),
        siret=row.get("siret", ""),
        missions=row.get("missions", ""),
    ).cleaned()


def apply_structure_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check the file again and, only if every line is valid, write it all (not committed)."""
    preview = preview_structure_import(session, territory_id, table)
    if not preview.ok:
        raise Refused("Le fichier contient des erreurs : rien n'a été enregistré.")
    index = _Index.load(session, territory_id)
    new_orgs: list[tuple[Organisation, list[str]]] = []
    for _number, row in table.numbered():
        existing = index.by_name.get(normalize_name(row["nom"]))
        data = _structure_data(row, existing)
        if existing is None:
            org = Organisation(territory_id=territory_id, name=data.name, status="active")
            session.add(org)
        else:
            org = existing
        org.name, org.type, org.commune = data.name, data.type, data.commune
        org.siret, org.missions = data.siret or None, data.missions
        new_orgs.append((org, split_services(row.get("services", ""))))
    session.flush()
    known = active_services(session, [stored_id(o) for o, _ in new_orgs])
    for org, names in new_orgs:
        have = {normalize_name(s.name) for s in known.get(stored_id(org), [])}
        for name in names:
            if normalize_name(name) not in have:
                session.add(Service(organisation_id=stored_id(org), name=name))
    session.flush()
    return preview


def export_structures(session: Session, territory_id: int) -> tuple[list[str], list[list[str]]]:
    """Active structures as rows of STRUCTURE_COLUMNS: the file imports back unchanged."""
    orgs = session.exec(
        select(Organisation).where(
            Organisation.territory_id == territory_id, Organisation.status == "active"
        )
    ).all()
    services = active_services(session, [stored_id(o) for o in orgs])
    rows = [
        [
            o.name,
            o.type,
            o.commune,
            o.siret or "",
            o.missions,
            f" {SERVICE_SEPARATOR} ".join(s.name for s in services.get(stored_id(o), [])),
        ]
        for o in sorted(orgs, key=lambda o: normalize_name(o.name))
    ]
    return STRUCTURE_COLUMNS, rows


# --- the respondents' directory ------------------------------------------------------------


@dataclass
class PublicService:
    """A service as professionals see it: contact details only with the person's consent."""

    name: str
    contact_role: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


@dataclass
class PublicEntry:
    organisation_id: int
    name: str
    type_label: str
    commune: str
    missions: str
    services: list[PublicService] = field(default_factory=list)
    thematiques: list[str] = field(default_factory=list)
    # (name, service name or "", latest year) of resource people respondents named, with consent
    contacts: list[tuple[str, str, int]] = field(default_factory=list)
    # What the search found: consented contact names matching the words searched, and for a
    # need, why the structure is listed (plain French) and how well it matches.
    people_found: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0


# A need in everyday words -> the data·inclusion thématique it belongs to: « permis » is
# « Mobilité » though the label does not say it. Keys are folded word starts; values one or
# more thématique codes separated by spaces.
NEED_HINTS: dict[str, str] = {
    "permis": "mobilite", "voiture": "mobilite", "vehicul": "mobilite",
    "transport": "mobilite", "deplac": "mobilite",
    "dette": "difficultes-financieres", "surendet": "difficultes-financieres",
    "budget": "difficultes-financieres", "argent": "difficultes-financieres",
    "impaye": "difficultes-financieres", "factur": "difficultes-financieres",
    "aliment": "equipement-et-alimentation", "colis": "equipement-et-alimentation",
    "repas": "equipement-et-alimentation", "vetement": "equipement-et-alimentation",
    "meubl": "equipement-et-alimentation",
    "heberg": "logement-hebergement", "loyer": "logement-hebergement",
    "expuls": "logement-hebergement", "115": "logement-hebergement",
    "abri": "logement-hebergement", "logement": "logement-hebergement",
    "soin": "sante", "medec": "sante", "mutuel": "sante", "psy": "sante",
    "handicap": "sante", "addict": "sante",
    "ordinat": "numerique", "internet": "numerique", "ligne": "numerique",
    "informatiq": "numerique",
    "enfant": "famille", "parent": "famille", "garde": "famille", "violenc": "famille",
    "papier": "difficultes-administratives-ou-juridiques",
    "juridiq": "difficultes-administratives-ou-juridiques",
    "droit": "difficultes-administratives-ou-juridiques",
    "demarch": "difficultes-administratives-ou-juridiques",
    "emploi": "trouver-un-emploi", "travail": "trouver-un-emploi",
    "cv": "preparer-sa-candidature trouver-un-emploi",
    "candidat": "preparer-sa-candidature trouver-un-emploi",
    "formation": "se-former", "diplom": "se-former", "metier": "choisir-un-metier",
    "entrepris": "creer-une-entreprise", "lire": "lecture-ecriture-calcul",
    "illettr": "lecture-ecriture-calcul", "francais": "lecture-ecriture-calcul",
}  # fmt: skip
# Words of a need that say nothing about it (« qui peut m'aider pour… »).
_NEED_FILLER = frozenset(("aide", "aider", "besoin", "peut", "personne", "quelqu", "quelquun",
                          "m", "j", "n", "y", "cherche", "chercher", "faire"))  # fmt: skip


def public_directory(
    session: Session,
    territory_id: int,
    q: str = "",
    type: str = "",
    thematique: str = "",
    need: str = "",
) -> list[PublicEntry]:
    """Active structures of the territory for a respondent to browse.

    Thématiques are not stored on structures: they are derived from what respondents said
    they work on with each structure (tags of submitted, still-current links). Contact names
    appear only where consent was given: a service's contact, or a person a respondent named
    as their contact there and ticked as agreeing to be listed.

    `q` finds structures by name, commune, missions, service or the name of a consented
    contact (every word, accent-insensitive). `need` (« qui peut m'aider pour… ») ranks the
    structures whose declared thématiques, missions or practices match it, best first.
    Both search only what the page shows: a contact without consent never matches.
    """
    from survey.models import Campaign

    rows = list_structures(session, territory_id, type=type)
    ids = [stored_id(r.organisation) for r in rows]
    if not ids:
        return []
    current = (
        sa_select(col(DeclaredLink.id))
        .join(Response, col(Response.id) == DeclaredLink.response_id)
        .join(Campaign, col(Campaign.id) == Response.campaign_id)
        .where(
            col(Campaign.territory_id) == territory_id,
            col(Response.status) == "submitted",
            col(DeclaredLink.status) != "ended",
            col(DeclaredLink.partner_organisation_id).in_(ids),
        )
    )
    # {org id: {(kind, code): number of current links saying it}}
    tags: dict[int, dict[tuple[str, str], int]] = {}
    for org_id, kind, code, n in session.execute(
        sa_select(
            col(DeclaredLink.partner_organisation_id),
            col(LinkTag.kind),
            col(LinkTag.code),
            func.count(),
        )
        .join(LinkTag, col(LinkTag.link_id) == DeclaredLink.id)
        .where(col(LinkTag.kind).in_(("thematique", "practice")), col(DeclaredLink.id).in_(current))
        .group_by(col(DeclaredLink.partner_organisation_id), col(LinkTag.kind), col(LinkTag.code))
    ).all():
        tags.setdefault(org_id, {})[(kind, code)] = n
    service_names = {
        s.id: s.name
        for s in session.exec(select(Service).where(col(Service.organisation_id).in_(ids)))
    }
    named: dict[int, dict[tuple[str, str], int]] = {}
    for org_id, service_id, name, year in session.execute(
        sa_select(
            col(DeclaredLink.partner_organisation_id),
            col(DeclaredLink.partner_service_id),
            col(DeclaredLink.contact_name),
            func.max(Campaign.year),
        )
        .join(Response, col(Response.id) == DeclaredLink.response_id)
        .join(Campaign, col(Campaign.id) == Response.campaign_id)
        .where(
            col(DeclaredLink.id).in_(current),
            col(DeclaredLink.contact_consent),
            col(DeclaredLink.contact_name) != "",
        )
        .group_by(
            col(DeclaredLink.partner_organisation_id),
            col(DeclaredLink.partner_service_id),
            col(DeclaredLink.contact_name),
        )
    ).all():
        key = (" ".join(name.split()), service_names.get(service_id, ""))
        people = named.setdefault(org_id, {})
        people[key] = max(year, people.get(key, 0))
    services = active_services(session, ids)
    query = normalize_name(q).split()
    need_words = [w for w in similarity.words(need) if w not in _NEED_FILLER]
    spelled = {similarity.fold(w): w for w in re.findall(r"\w+", need)}
    out = []
    for r in rows:
        o = r.organisation
        org_id = stored_id(o)
        declared = tags.get(org_id, {})
        codes = {code for kind, code in declared if kind == "thematique"}
        if thematique and thematique not in codes:
            continue
        entry = PublicEntry(
            organisation_id=org_id,
            name=o.name,
            type_label=r.type_label,
            commune=o.commune,
            missions=o.missions,
            services=[_public_service(s) for s in services.get(org_id, [])],
            thematiques=sorted(vocab.THEMATIQUES.get(c, c) for c in codes),
            contacts=sorted((n, s, y) for (n, s), y in named.get(org_id, {}).items()),
        )
        if query and not _matches_query(entry, query):
            continue
        if need_words:
            _score_need(entry, need_words, declared, spelled)
            if not entry.score:
                continue
        out.append(entry)
    if need_words:
        out.sort(key=lambda e: (-e.score, normalize_name(e.name)))
    return out


def _matches_query(entry: PublicEntry, query: list[str]) -> bool:
    """Every word of `query` is in the structure's name, commune, missions, services or a
    consented contact's name (what the page shows); the contacts hit are kept to show."""
    people = [s.contact_name for s in entry.services if s.contact_name]
    people += [name for name, _, _ in entry.contacts]
    text = normalize_name(
        " ".join([entry.name, entry.commune, entry.missions, *(s.name for s in entry.services)])
    )
    folded = {p: normalize_name(p) for p in people}
    if not all(w in text or any(w in f for f in folded.values()) for w in query):
        return False
    entry.people_found = sorted(
        {p for p, f in folded.items() if any(len(w) >= 3 and w in f for w in query)}
    )
    return True


def _score_need(
    entry: PublicEntry,
    need: list[str],
    declared: dict[tuple[str, str], int],
    spelled: dict[str, str],
) -> None:
    """Set entry.score and entry.reasons for a need: a thématique colleagues declared with
    the structure and the words of its missions weigh most, then the ways of working
    declared with it and its name or services. `spelled` gives each folded word of the need
    as the person typed it, to quote them. (No-break spaces inside « »: a quote mark never
    ends a line alone.)"""
    score = 0.0
    reasons = []
    hinted = {
        code
        for w in need
        for start, codes in NEED_HINTS.items()
        if w.startswith(start) or (len(w) >= 4 and start.startswith(w))
        for code in codes.split()
    }
    for (kind, code), n in sorted(declared.items(), key=lambda item: -item[1]):
        if kind != "thematique":
            continue
        label = vocab.THEMATIQUES.get(code, code)
        if code in hinted or similarity.matching_words(need, label):
            score += 2 + min(n, 20) / 10
            reasons.append(f"thème «\u00a0{label}\u00a0», cité {n} fois par des collègues")
    found = similarity.matching_words(need, entry.missions)
    if found:
        # What the structure says it does weighs most: 3 per word of the need it mentions.
        score += 3 * len(found)
        said = sorted(spelled.get(w, w) for w in found)
        reasons.append(
            "ses missions parlent de «\u00a0" + "\u00a0», «\u00a0".join(said) + "\u00a0»"
        )
    for kind, code in declared:
        label = vocab.PRACTICES.get(code, "") if kind == "practice" else ""
        if label and similarity.matching_words(need, label):
            score += 1
            reasons.append(f"des collègues travaillent avec elle pour «\u00a0{label}\u00a0»")
    names = " ".join([entry.name, entry.type_label, *(s.name for s in entry.services)])
    if similarity.matching_words(need, names):
        score += 1
        reasons.append("son nom ou ses services correspondent")
    entry.score = score
    entry.reasons = reasons


def _public_service(svc: Service) -> PublicService:
    if not svc.contact_consent:
        return PublicService(svc.name)
    return PublicService(
        svc.name, svc.contact_role, svc.contact_name, svc.contact_phone, svc.contact_email
    )


_PARTNER_NAMES = sa_select(col(Organisation.id), col(Organisation.name)).where(
    col(Organisation.id).in_(bindparam("ids", expanding=True)),
    col(Organisation.territory_id) == bindparam("territory_id"),
)
_SERVICE_NAMES = (
    sa_select(col(Service.id), col(Service.name))
    .join(Organisation, col(Organisation.id) == Service.organisation_id)
    .where(
        col(Service.id).in_(bindparam("ids", expanding=True)),
        col(Organisation.territory_id) == bindparam("territory_id"),
    )
)


def partner_names(
    session: Session, territory_id: int, org_ids: set[int], service_ids: set[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """Names of the given structures and services, restricted to the territory: an id from
    elsewhere (forged in a form) gets no name, so it cannot reveal another territory.
    (Statements built once: this runs on every questionnaire request.)"""
    conn = session.connection()
    orgs: dict[int, str] = {}
    services: dict[int, str] = {}
    if org_ids:
        rows = conn.execute(_PARTNER_NAMES, {"ids": list(org_ids), "territory_id": territory_id})
        orgs = dict(typing.cast(Iterable[tuple[int, str]], rows.all()))
    if service_ids:
        rows = conn.execute(
            _SERVICE_NAMES, {"ids": list(service_ids), "territory_id": territory_id}
        )
        services = dict(typing.cast(Iterable[tuple[int, str]], rows.all()))
    return orgs, services


# (structure id, name, commune, service id, service name) per row of partner_entries
PartnerEntries = tuple[tuple[int, str, str, int | None, str | None], ...]
_PARTNER_ENTRIES = (
    sa_select(
        col(Organisation.id),
        col(Organisation.name),
        col(Organisation.commune),
        col(Service.id),
        col(Service.name),
    )
    .outerjoin(
        Service,
        and_(col(Service.organisation_id) == Organisation.id, col(Service.active).is_(True)),
    )
    .where(
        col(Organisation.territory_id) == bindparam("territory_id"),
        or_(
            col(Organisation.status) == "active",
            col(Organisation.id).in_(bindparam("include_ids", expanding=True)),
            and_(
                col(Organisation.status) == "proposed",
                col(Organisation.proposed_by_id) == bindparam("proposed_by"),
            ),
        ),
    )
    .order_by(col(Organisation.name), col(Organisation.id), col(Service.name), col(Service.id))
)


def partner_entries(
    session: Session,
    territory_id: int,
    include_ids: set[int] | None = None,
    proposed_by: int | None = None,
) -> PartnerEntries:
    """The directory a respondent searches, in one query: (structure id, name, commune,
    service id, service name) per active service of each active structure of the territory
    (plus `include_ids` and the structures proposed by professional `proposed_by`), or one
    row with no service. A tuple, so that what is built from it can be cached on it (the
    questionnaire page's datalist)."""
    rows = session.connection().execute(
        _PARTNER_ENTRIES,
        {
            "territory_id": territory_id,
            "include_ids": sorted(include_ids or ()) or [0],
            "proposed_by": proposed_by if proposed_by is not None else 0,
        },
    )
    return typing.cast(PartnerEntries, tuple(tuple(row) for row in rows))
