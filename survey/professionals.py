"""Professionals of a territory: add, edit, leave the post, succession, import and export.

A professional who leaves is deactivated, never deleted: their answers stay counted in the
years they gave them. "Took over from" links a newcomer to the person they replaced, so the
questionnaire can offer the partners of the post (the turnover the source worries about).

As in `survey.directory`, nothing here commits: the caller audits and commits.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from survey import campaigns, links
from survey.db import stored_id
from survey.directory import (
    ImportLine,
    ImportPreview,
    Invalid,
    Refused,
    active_services,
    email_is_valid,
    normalize_name,
    refuse_invisible,
)
from survey.models import Organisation, Professional, Service
from survey.tabular import Table, missing_columns
from survey.text import row_problems

PRO_COLUMNS = ["nom", "email", "structure", "service", "fonction"]
EXPORT_COLUMNS = [*PRO_COLUMNS, "actif", "succede_a"]
PRO_ALIASES = {
    "nomcomplet": "nom",
    "nomprenom": "nom",
    "prenomnom": "nom",
    "name": "nom",
    "mail": "email",
    "courriel": "email",
    "adressemail": "email",
    "adresseemail": "email",
    "adressee": "email",
    "organisation": "structure",
    "function": "fonction",
    "poste": "fonction",
}


# The fields as the form names them, for survey.text's refusals.
PRO_LABELS = {"full_name": "Prénom et nom", "email": "Adresse e-mail", "function": "Fonction"}


@dataclass
class ProfessionalData:
    full_name: str = ""
    email: str = ""
    function: str = ""
    organisation_id: int | None = None
    service_id: int | None = None
    took_over_from_id: int | None = None

    def cleaned(self) -> ProfessionalData:
        return ProfessionalData(
            full_name=" ".join(self.full_name.split()),
            email=self.email.strip(),
            function=" ".join(self.function.split()),
            organisation_id=self.organisation_id,
            service_id=self.service_id,
            took_over_from_id=self.took_over_from_id,
        )


def get_professional(session: Session, territory_id: int, pro_id: int) -> Professional | None:
    pro = session.get(Professional, pro_id)
    if pro is None or pro.territory_id != territory_id:
        return None
    return pro


def organisation_choices(session: Session, territory_id: int) -> list[Organisation]:
    """The structures a professional may belong to (active or proposed), by name."""
    return sorted(
        session.exec(
            select(Organisation).where(
                Organisation.territory_id == territory_id,
                col(Organisation.status).in_(("active", "proposed")),
            )
        ).all(),
        key=lambda o: normalize_name(o.name),
    )


def service_choices(session: Session, territory_id: int) -> list[tuple[Service, str]]:
    """The active services of the territory with their structure's name, by structure."""
    return list(
        session.exec(
            select(Service, Organisation.name)
            .join(Organisation, col(Organisation.id) == col(Service.organisation_id))
            .where(Organisation.territory_id == territory_id, col(Service.active))
            .order_by(col(Organisation.name), col(Service.name))
        ).all()
    )


def names_by_id(session: Session, territory_id: int, ids: set[int]) -> dict[int, str]:
    """The full names of these professionals of the territory, by id."""
    if not ids:
        return {}
    rows = session.exec(
        select(Professional.id, Professional.full_name).where(
            col(Professional.id).in_(ids), Professional.territory_id == territory_id
        )
    ).all()
    return {cast(int, pro_id): name for pro_id, name in rows}


def active_in_structure(session: Session, organisation_id: int) -> list[Professional]:
    """The structure's active professionals, by name."""
    return list(
        session.exec(
            select(Professional)
            .where(Professional.organisation_id == organisation_id, col(Professional.active))
            .order_by(col(Professional.full_name))
        ).all()
    )


def _email_owner(
    session: Session, territory_id: int, email: str, exclude_id: int | None
) -> Professional | None:
    return session.exec(
        select(Professional).where(
            Professional.territory_id == territory_id,
            func.lower(Professional.email) == email.lower(),
            Professional.id != (exclude_id or -1),
        )
    ).first()


def _duplicate_email_message(owner: Professional) -> str:
    left = " (a quitté son poste : réactivez sa fiche)" if not owner.active else ""
    return f"Cette adresse est déjà celle de {owner.full_name}{left}."


def check_professional(
    session: Session, territory_id: int, data: ProfessionalData, current_id: int | None = None
) -> dict[str, str]:
    """Problems with `data` (already cleaned), by field; empty when it can be saved."""
    errors: dict[str, str] = {}
    if not data.full_name:
        errors["full_name"] = "Indiquez le nom de la personne."
    elif len(data.full_name) > 160:
        errors["full_name"] = "Le nom est trop long : 160 caractères au maximum."
    if not data.email:
        errors["email"] = "Indiquez l'adresse e-mail."
    elif not email_is_valid(data.email):
        errors["email"] = "Cette adresse e-mail n'est pas valide (exemple : nom@domaine.fr)."
    else:
        owner = _email_owner(session, territory_id, data.email, current_id)
        if owner is not None:
            errors["email"] = _duplicate_email_message(owner)
    if len(data.function) > 160:
        errors["function"] = "La fonction est trop longue : 160 caractères au maximum."
    org = session.get(Organisation, data.organisation_id) if data.organisation_id else None
    if org is None or org.territory_id != territory_id or org.status not in ("active", "proposed"):
        errors["organisation_id"] = "Choisissez la structure dans le répertoire."
    elif data.service_id is not None:
        svc = session.get(Service, data.service_id)
        if svc is None or svc.organisation_id != org.id:
            errors["service_id"] = "Ce service n'appartient pas à la structure choisie."
    if data.took_over_from_id is not None:
        problem = _succession_problem(session, territory_id, current_id, data.took_over_from_id)
        if problem:
            errors["took_over_from_id"] = problem
    return errors


def _succession_problem(
    session: Session, territory_id: int, pro_id: int | None, predecessor_id: int
) -> str:
    if pro_id is not None and predecessor_id == pro_id:
        return "Une personne ne peut pas se succéder à elle-même."
    predecessor = get_professional(session, territory_id, predecessor_id)
    if predecessor is None:
        return "Choisissez la personne remplacée parmi les professionnels du territoire."
    # Walk up the chain: A took over from B who took over from A would loop forever.
    seen: set[int] = set()
    current: Professional | None = predecessor
    while current is not None and current.took_over_from_id is not None:
        if current.took_over_from_id == pro_id or current.took_over_from_id in seen:
            return "Cette succession formerait une boucle : vérifiez qui a remplacé qui."
        seen.add(stored_id(current))
        current = session.get(Professional, current.took_over_from_id)
    return ""


def add_professional(session: Session, territory_id: int, data: ProfessionalData) -> Professional:
    refuse_invisible(data, PRO_LABELS)
    data = data.cleaned()
    errors = check_professional(session, territory_id, data)
    if errors:
        raise Invalid(errors)
    pro = Professional(territory_id=territory_id, **data.__dict__)
    session.add(pro)
    session.flush()
    return pro


def update_professional(
    session: Session, pro: Professional, data: ProfessionalData
) -> Professional:
    """Edit the record. Moving to another structure does not rewrite past answers: each
    response keeps the structure the person worked in when answering."""
    refuse_invisible(data, PRO_LABELS)
    data = data.cleaned()
    errors = check_professional(session, pro.territory_id, data, current_id=pro.id)
    if errors:
        raise Invalid(errors)
    for key, value in data.__dict__.items():
        setattr(pro, key, value)
    session.add(pro)
    session.flush()
    return pro


def deactivate(session: Session, pro: Professional) -> None:
    """Left the post: no new invitation, and the link of the open campaign stops working
    (it may be in a shared mailbox); past answers stay counted in their years."""
    if not pro.active:
        raise Refused("Cette personne est déjà indiquée comme partie.")
    pro.active = False
    session.add(pro)
    open_campaign = campaigns.open_campaign_of(session, pro.territory_id)
    if open_campaign is not None:  # at most one per territory (a unique index says so)
        links.revoke(session, stored_id(open_campaign), stored_id(pro))
    session.flush()


def professionals_by_ids(
    session: Session, territory_id: int, ids: list[int]
) -> list[Professional] | None:
    """The professionals of the territory with these ids, sorted by name; None when any id
    is not one of them (unknown, or another territory's), so a caller refuses the lot."""
    wanted = set(ids)
    found = list(
        session.exec(
            select(Professional).where(
                Professional.territory_id == territory_id, col(Professional.id).in_(wanted)
            )
        )
    )
    if len(found) != len(wanted):
        return None
    return sorted(found, key=lambda x: normalize_name(x.full_name))


def deactivate_many(session: Session, pros: list[Professional]) -> None:
    """Left the post, for several people at once: all of them or none (one already gone
    refuses the lot before anything changes)."""
    if not pros:
        raise Refused("Cochez au moins une personne.")
    gone = [x.full_name for x in pros if not x.active]
    if gone:
        who = (
            "Ces personnes sont déjà indiquées comme parties"
            if len(gone) > 1
            else "Cette personne est déjà indiquée comme partie"
        )
        raise Refused(f"{who} : {', '.join(gone)}. Rien n'a été enregistré.")
    for pro in pros:
        deactivate(session, pro)


def reactivate(session: Session, pro: Professional) -> None:
    if pro.active:
        raise Refused("Cette personne est déjà active.")
    org = session.get(Organisation, pro.organisation_id)
    if org is None or org.status not in ("active", "proposed"):
        raise Refused(
            "Sa structure n'est plus active : modifiez d'abord sa fiche pour choisir une structure."
        )
    pro.active = True
    session.add(pro)
    session.flush()


def set_took_over_from(session: Session, pro: Professional, predecessor_id: int | None) -> None:
    if predecessor_id is not None:
        problem = _succession_problem(session, pro.territory_id, pro.id, predecessor_id)
        if problem:
            raise Invalid({"took_over_from_id": problem})
    pro.took_over_from_id = predecessor_id
    session.add(pro)
    session.flush()


@dataclass
class ProfessionalRow:
    professional: Professional
    organisation: str
    service: str
    took_over_from: str


def list_professionals(
    session: Session,
    territory_id: int,
    q: str = "",
    organisation_id: int | None = None,
    active: bool | None = True,
) -> list[ProfessionalRow]:
    """The territory's professionals with structure, service and predecessor names, sorted by
    name; `q` searches name, e-mail, function and structure (accent-insensitive)."""
    stmt = (
        select(Professional, Organisation.name, Service.name)
        .join(Organisation, col(Organisation.id) == Professional.organisation_id)
        .outerjoin(Service, col(Service.id) == Professional.service_id)
        .where(Professional.territory_id == territory_id)
    )
    if organisation_id is not None:
        stmt = stmt.where(Professional.organisation_id == organisation_id)
    if active is not None:
        stmt = stmt.where(Professional.active == active)
    rows = session.exec(stmt).all()
    predecessor_ids = {p.took_over_from_id for p, _, _ in rows if p.took_over_from_id}
    names = dict(
        session.exec(
            select(Professional.id, Professional.full_name).where(
                col(Professional.id).in_(predecessor_ids)
            )
        ).all()
        if predecessor_ids
        else []
    )
    out = [
        ProfessionalRow(p, org_name, svc_name or "", names.get(p.took_over_from_id, ""))
        for p, org_name, svc_name in rows
    ]
    if q.strip():
        words = normalize_name(q).split()
        out = [
            r
            for r in out
            if all(
                w
                in normalize_name(
                    f"{r.professional.full_name} {r.professional.email} "
                    f"{r.professional.function} {r.organisation}"
                )
                for w in words
            )
        ]
    return sorted(out, key=lambda r: normalize_name(r.professional.full_name))


# --- import and export ---------------------------------------------------------------------


def _suggestions(name: str, candidates: dict[str, str]) -> list[str]:
    """Up to three known names close to `name` (typos, abbreviations, missing words)."""
    key = normalize_name(name)
    close = difflib.get_close_matches(key, list(candidates), n=3, cutoff=0.6)
    contained = [c for c in candidates if key and (key in c or c in key) and c not in close]
    return [candidates[c] for c in (close + contained)[:3]]


def _unknown(kind: str, name: str, suggestions: list[str], hint: str) -> str:
    message = f"{kind} « {name[:80]} » inconnu{'e' if kind == 'Structure' else ''}"
    if suggestions:
        return (
            message + " : vouliez-vous dire " + " ou ".join(f"« {s} »" for s in suggestions) + " ?"
        )
    return f"{message} : {hint}"


def preview_professional_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check every line (name, e-mail, structure, service, function); writes nothing."""
    preview = ImportPreview()
    missing = missing_columns(table, ["nom", "email", "structure"])
    if missing:
        preview.file_errors.append(
            "Colonne(s) obligatoire(s) absente(s) : "
            + ", ".join(f"« {m} »" for m in missing)
            + ". La première ligne doit donner les noms des colonnes : "
            + ", ".join(PRO_COLUMNS)
            + "."
        )
        return preview
    if not table.rows:
        preview.file_errors.append("Le fichier ne contient aucune ligne de données.")
        return preview

    orgs = session.exec(
        select(Organisation).where(
            Organisation.territory_id == territory_id, Organisation.status == "active"
        )
    ).all()
    org_by_key = {normalize_name(o.name): o for o in orgs}
    org_names = {normalize_name(o.name): o.name for o in orgs}
    services = active_services(session, [stored_id(o) for o in orgs])
    emails_in_db = {
        email.lower(): (name, active)
        for email, name, active in session.exec(
            select(Professional.email, Professional.full_name, Professional.active).where(
                Professional.territory_id == territory_id
            )
        )
        if email
    }
    seen_emails: dict[str, int] = {}
    for number, row in table.numbered():
        line = ImportLine(number, {k: row.get(k, "") for k in PRO_COLUMNS}, action="create")
        preview.lines.append(line)
        if refused := row_problems(row):
            line.errors.extend(refused)
            continue  # a line that cannot be stored as it is: nothing more to check
        name = " ".join(row.get("nom", "").split())
        email = row.get("email", "").strip()
        if not name:
            line.errors.append("Nom manquant.")
        elif len(name) > 160:
            line.errors.append("Nom trop long : 160 caractères au maximum.")
        if not email:
            line.errors.append("Adresse e-mail manquante.")
        elif not email_is_valid(email):
            line.errors.append(f"Adresse e-mail « {email[:80]} » non valide.")
        elif email.lower() in seen_emails:
            line.errors.append(f"Adresse e-mail déjà présente ligne {seen_emails[email.lower()]}.")
        elif email.lower() in emails_in_db:
            owner, active = emails_in_db[email.lower()]
            left = ", qui a quitté son poste" if not active else ""
            line.errors.append(f"Adresse e-mail déjà enregistrée pour {owner}{left}.")
        if email:
            seen_emails.setdefault(email.lower(), number)
        if len(row.get("fonction", "")) > 160:
            line.errors.append("Fonction trop longue : 160 caractères au maximum.")
        structure = row.get("structure", "").strip()
        org = org_by_key.get(normalize_name(structure))
        if not structure:
            line.errors.append("Structure manquante.")
        elif org is None:
            line.errors.append(
                _unknown(
                    "Structure",
                    structure,
                    _suggestions(structure, org_names),
                    "ajoutez-la d'abord au répertoire.",
                )
            )
        service = row.get("service", "").strip()
        if org is not None and service:
            known = {normalize_name(s.name): s.name for s in services.get(stored_id(org), [])}
            if normalize_name(service) not in known:
                hint = (
                    "services connus : " + ", ".join(known.values()) + "."
                    if known
                    else "cette structure n'a pas encore de service : laissez la colonne vide "
                    "ou ajoutez le service au répertoire."
                )
                line.errors.append(_unknown("Service", service, _suggestions(service, known), hint))
    return preview


def apply_professional_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check the file again and, only if every line is valid, add everyone (not committed)."""
    preview = preview_professional_import(session, territory_id, table)
    if not preview.ok:
        raise Refused("Le fichier contient des erreurs : rien n'a été enregistré.")
    orgs = session.exec(
        select(Organisation).where(
            Organisation.territory_id == territory_id, Organisation.status == "active"
        )
    ).all()
    org_by_key = {normalize_name(o.name): o for o in orgs}
    services = active_services(session, [stored_id(o) for o in orgs])
    for _number, row in table.numbered():
        org = org_by_key[normalize_name(row["structure"])]
        service_key = normalize_name(row.get("service", ""))
        svc = next(
            (s for s in services.get(stored_id(org), []) if normalize_name(s.name) == service_key),
            None,
        )
        session.add(
            Professional(
                territory_id=territory_id,
                full_name=" ".join(row["nom"].split()),
                email=row["email"].strip(),
                function=" ".join(row.get("fonction", "").split()),
                organisation_id=stored_id(org),
                service_id=svc.id if svc else None,
            )
        )
    session.flush()
    return preview


def export_professionals(session: Session, territory_id: int) -> tuple[list[str], list[list[str]]]:
    """Every professional of the territory (personal data: coordinators only)."""
    rows = list_professionals(session, territory_id, active=None)
    return EXPORT_COLUMNS, [
        [
            r.professional.full_name,
            r.professional.email,
            r.organisation,
            r.service,
            r.professional.function,
            "oui" if r.professional.active else "non",
            r.took_over_from,
        ]
        for r in rows
    ]
