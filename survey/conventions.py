"""Official partnerships: conventions, protocols and charters signed between structures.

Coordinators record them (kind, title, optional reference, start and end dates, the
structures that signed) so that the reports can compare them with the ties professionals
declare. A party merged into another structure stands for the structure that absorbed it.

Functions here never commit: the caller adds its audit event and commits. Invalid input
raises `survey.directory.Invalid` (French message per field); a refused action raises
`survey.directory.Refused`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete
from sqlmodel import Session, col, select

from survey import similarity, vocab
from survey.db import stored_id
from survey.directory import (
    ImportLine,
    ImportPreview,
    Invalid,
    Refused,
    TerritoryStructures,
    normalize_name,
    refuse_invisible,
)
from survey.models import Convention, ConventionParty, Organisation
from survey.tabular import Table, missing_columns
from survey.text import row_problems

PARTY_SEPARATOR = "|"
CONVENTION_COLUMNS = ["type", "intitule", "reference", "debut", "fin", "parties"]
CONVENTION_ALIASES = {
    "nature": "type",
    "kind": "type",
    "titre": "intitule",
    "title": "intitule",
    "nom": "intitule",
    "ref": "reference",
    "numero": "reference",
    "datededebut": "debut",
    "datedebut": "debut",
    "start": "debut",
    "datedefin": "fin",
    "datefin": "fin",
    "end": "fin",
    "signataires": "parties",
    "structures": "parties",
    "partie": "parties",
}
LABELS = {"title": "Intitulé", "reference": "Référence", "starts_on": "Date de début",
          "ends_on": "Date de fin"}  # fmt: skip
END_BEFORE_START = "La date de fin est avant la date de début."
DATE_HINT = "écrivez-la jj/mm/aaaa (par exemple 01/09/2025)"

_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T00:00:00)?")


def parse_date(text: str) -> date | None:
    """A date written dd/mm/yyyy or yyyy-mm-dd (a spreadsheet's date cell reads as the
    latter), or None when `text` is no such date."""
    text = text.strip()
    if m := _FRENCH_DATE.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in m.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def format_date(value: date | None) -> str:
    """dd/mm/yyyy, the way forms and exports show a date; "" for None."""
    return value.strftime("%d/%m/%Y") if value else ""


def kind_code(value: str) -> str | None:
    """A convention kind from its code or label, as a person would type it."""
    key = normalize_name(value)
    for code, label in vocab.CONVENTION_KINDS.items():
        if key in (normalize_name(code), normalize_name(label)):
            return code
    return None


@dataclass
class ConventionData:
    """What a form or an import line gives for a convention: dates as typed, parties as
    structure ids."""

    kind: str = "convention"
    title: str = ""
    reference: str = ""
    starts_on: str = ""
    ends_on: str = ""
    parties: list[int] = field(default_factory=list)

    def cleaned(self) -> ConventionData:
        return ConventionData(
            kind=self.kind.strip(),
            title=" ".join(self.title.split()),
            reference=" ".join(self.reference.split()),
            starts_on=self.starts_on.strip(),
            ends_on=self.ends_on.strip(),
            parties=list(self.parties),
        )


@dataclass
class Checked:
    """A convention ready to store: parsed dates and the parties as canonical structures."""

    kind: str
    title: str
    reference: str
    starts_on: date
    ends_on: date | None
    parties: list[Organisation]


# --- structures as parties -----------------------------------------------------------------


def canonical(session: Session, org: Organisation) -> Organisation:
    """The structure `org` stands for: itself, or the one it was merged into (followed)."""
    seen = {org.id}
    while org.status == "merged" and org.merged_into_id and org.merged_into_id not in seen:
        target = session.get(Organisation, org.merged_into_id)
        if target is None:
            break
        seen.add(target.id)
        org = target
    return org


def party_choices(
    session: Session, territory_id: int
) -> list[tuple[vocab.Family, list[Organisation]]]:
    """The active structures of the territory, grouped by family in vocab.FAMILIES order
    and sorted by name inside: the checkboxes of the convention form."""
    return TerritoryStructures.load(session, territory_id).choices()


def _resolve_parties(
    session: Session, territory_id: int, ids: Iterable[int]
) -> tuple[list[Organisation], str]:
    """The canonical parties of `ids` and the first problem with them ("" when none)."""
    parties: list[Organisation] = []
    for org_id in ids:
        org = session.get(Organisation, org_id)
        if org is None or org.territory_id != territory_id:
            return parties, "Une des structures choisies n'existe pas dans ce territoire."
        found = canonical(session, org)
        if found.status != "active":
            return parties, (
                f"« {found.name} » n'est pas active dans le répertoire : "
                "réactivez-la ou choisissez-en une autre."
            )
        if any(p.id == found.id for p in parties):
            return parties, f"« {found.name} » figure deux fois parmi les parties."
        parties.append(found)
    if len(parties) < 2:
        return parties, "Choisissez au moins deux structures parties à la convention."
    return parties, ""


def check_convention(
    session: Session, territory_id: int, data: ConventionData
) -> tuple[dict[str, str], Checked | None]:
    """Problems with `data` (already cleaned) by field, and the convention to store when
    there are none."""
    errors: dict[str, str] = {}
    if data.kind not in vocab.CONVENTION_KINDS:
        errors["kind"] = "Choisissez le type d'accord dans la liste."
    if len(data.title) > 200:
        errors["title"] = "L'intitulé est trop long : 200 caractères au maximum."
    if len(data.reference) > 120:
        errors["reference"] = "La référence est trop longue : 120 caractères au maximum."
    starts = parse_date(data.starts_on)
    if not data.starts_on:
        errors["starts_on"] = "Indiquez la date de début (jj/mm/aaaa)."
    elif starts is None:
        errors["starts_on"] = f"La date de début n'est pas une date : {DATE_HINT}."
    ends = parse_date(data.ends_on) if data.ends_on else None
    if data.ends_on and ends is None:
        errors["ends_on"] = f"La date de fin n'est pas une date : {DATE_HINT}."
    elif starts and ends and ends < starts:
        errors["ends_on"] = END_BEFORE_START
    parties, problem = _resolve_parties(session, territory_id, data.parties)
    if problem:
        errors["parties"] = problem
    if errors or starts is None:
        return errors, None
    return errors, Checked(data.kind, data.title, data.reference, starts, ends, parties)


# --- one convention ------------------------------------------------------------------------


def get_convention(session: Session, territory_id: int, convention_id: int) -> Convention | None:
    """The convention if it belongs to the territory (never another territory's)."""
    found = session.get(Convention, convention_id)
    if found is None or found.territory_id != territory_id:
        return None
    return found


def parties_of(session: Session, convention: Convention) -> list[Organisation]:
    """The structures that signed `convention`, by name."""
    orgs = session.exec(
        select(Organisation)
        .join(ConventionParty, col(ConventionParty.organisation_id) == col(Organisation.id))
        .where(ConventionParty.convention_id == convention.id)
    ).all()
    return sorted(orgs, key=lambda o: normalize_name(o.name))


def _checked(session: Session, territory_id: int, data: ConventionData) -> Checked:
    refuse_invisible(data, LABELS)
    errors, checked = check_convention(session, territory_id, data.cleaned())
    if errors or checked is None:
        raise Invalid(errors)
    return checked


def _store(session: Session, convention: Convention, checked: Checked) -> Convention:
    convention.kind, convention.title = checked.kind, checked.title
    convention.reference = checked.reference
    convention.starts_on, convention.ends_on = checked.starts_on, checked.ends_on
    session.add(convention)
    session.flush()
    session.execute(
        delete(ConventionParty).where(col(ConventionParty.convention_id) == convention.id)
    )
    session.add_all(
        ConventionParty(convention_id=stored_id(convention), organisation_id=stored_id(p))
        for p in checked.parties
    )
    session.flush()
    return convention


def create_convention(session: Session, territory_id: int, data: ConventionData) -> Convention:
    """A new active convention; Invalid when `data` does not hold."""
    checked = _checked(session, territory_id, data)
    convention = Convention(territory_id=territory_id, starts_on=checked.starts_on)
    return _store(session, convention, checked)


def update_convention(session: Session, convention: Convention, data: ConventionData) -> Convention:
    """Replace every field and the parties of `convention`; Invalid when `data` does not hold."""
    checked = _checked(session, convention.territory_id, data)
    return _store(session, convention, checked)


def archive_convention(session: Session, convention: Convention) -> None:
    """Archived conventions leave the comparisons of later years; nothing is deleted."""
    if not convention.active:
        raise Refused("Cette convention est déjà archivée.")
    convention.active = False
    session.add(convention)
    session.flush()


def restore_convention(session: Session, convention: Convention) -> None:
    if convention.active:
        raise Refused("Cette convention n'est pas archivée.")
    convention.active = True
    session.add(convention)
    session.flush()


def form_data(session: Session, convention: Convention) -> ConventionData:
    """The stored convention as its edit form shows it."""
    return ConventionData(
        kind=convention.kind,
        title=convention.title,
        reference=convention.reference,
        starts_on=format_date(convention.starts_on),
        ends_on=format_date(convention.ends_on),
        # A party merged since stands for its absorber, the box the form can check.
        parties=list(
            dict.fromkeys(stored_id(canonical(session, p)) for p in parties_of(session, convention))
        ),
    )


# --- the list ------------------------------------------------------------------------------


@dataclass
class ConventionRow:
    convention: Convention
    kind_label: str
    parties: list[Organisation]


def list_conventions(
    session: Session, territory_id: int, active: bool = True
) -> list[ConventionRow]:
    """The territory's active (or archived) conventions with their parties, latest start
    first, then by title."""
    conventions = session.exec(
        select(Convention).where(
            Convention.territory_id == territory_id, Convention.active == active
        )
    ).all()
    ids = [stored_id(c) for c in conventions]
    parties: dict[int, list[Organisation]] = {}
    if ids:
        rows = session.exec(
            select(ConventionParty.convention_id, Organisation)
            .join(Organisation, col(Organisation.id) == col(ConventionParty.organisation_id))
            .where(col(ConventionParty.convention_id).in_(ids))
        ).all()
        for convention_id, org in rows:
            parties.setdefault(convention_id, []).append(org)
    out = [
        ConventionRow(
            c,
            vocab.CONVENTION_KINDS.get(c.kind, c.kind),
            sorted(parties.get(stored_id(c), []), key=lambda o: normalize_name(o.name)),
        )
        for c in conventions
    ]
    out.sort(key=lambda r: normalize_name(r.convention.title))
    out.sort(key=lambda r: r.convention.starts_on, reverse=True)
    return out


# --- import and export ---------------------------------------------------------------------


@dataclass
class _Directory:
    """The territory's structures by folded name (a merged one resolves to its absorber)
    and the active names a typo can be matched against."""

    by_name: dict[str, Organisation]
    active: list[Organisation]

    @classmethod
    def load(cls, session: Session, territory_id: int) -> _Directory:
        orgs = session.exec(
            select(Organisation)
            .where(Organisation.territory_id == territory_id)
            .order_by(col(Organisation.id))
        ).all()
        by_name: dict[str, Organisation] = {}
        # Merged structures first, so that a live structure of the same name wins.
        for org in sorted(orgs, key=lambda o: o.status != "merged"):
            by_name[normalize_name(org.name)] = org
        return cls(by_name, [o for o in orgs if o.status == "active"])

    def closest(self, name: str) -> str | None:
        """The active structure's name most like `name`, when one is alike."""
        me = similarity.Named(name)
        scored = [
            (score, o.name)
            for o in self.active
            if (score := similarity.suggestion_score(me, similarity.Named(o.name))) is not None
        ]
        if scored:
            return max(scored)[1]
        keys = {normalize_name(o.name): o.name for o in self.active}
        close = difflib.get_close_matches(normalize_name(name), list(keys), n=1, cutoff=0.8)
        return keys[close[0]] if close else None


def split_parties(cell: str) -> list[str]:
    """'CAF | CCAS de Guéret' -> ['CAF', 'CCAS de Guéret'] (empty parts dropped)."""
    return [" ".join(p.split()) for p in cell.split(PARTY_SEPARATOR) if p.strip()]


def _line_parties(
    session: Session, directory: _Directory, cell: str
) -> tuple[list[Organisation], list[str]]:
    """The canonical parties a cell names and the problems with them."""
    errors: list[str] = []
    parties: list[Organisation] = []
    for name in split_parties(cell):
        org = directory.by_name.get(normalize_name(name))
        if org is None:
            message = f"Structure inconnue : « {name[:120]} »."
            if alike := directory.closest(name):
                message += f" Vouliez-vous dire « {alike} » ?"
            errors.append(message)
            continue
        found = canonical(session, org)
        if found.status != "active":
            errors.append(f"« {found.name} » n'est pas active dans le répertoire.")
        elif any(p.id == found.id for p in parties):
            same = "" if found.name == org.name else f" (« {org.name} » a été fusionnée dedans)"
            errors.append(f"« {found.name} » figure deux fois parmi les parties{same}.")
        else:
            parties.append(found)
    if not errors and len(parties) < 2:
        errors.append("Une convention lie au moins deux structures : séparez leurs noms par « | ».")
    return parties, errors


def _line_key(kind: str, parties: list[Organisation], starts_on: date) -> tuple:
    return (kind, frozenset(stored_id(p) for p in parties), starts_on)


def _existing(session: Session, territory_id: int) -> dict[tuple, Convention]:
    """The territory's conventions by (kind, parties, start): what an import line updates."""
    out: dict[tuple, Convention] = {}
    conventions = session.exec(
        select(Convention)
        .where(Convention.territory_id == territory_id)
        .order_by(col(Convention.id))
    ).all()
    ids = [stored_id(c) for c in conventions]
    members: dict[int, set[int]] = {}
    if ids:
        structures = TerritoryStructures.load(session, territory_id)  # one query, not one a party
        for convention_id, org_id in session.exec(
            select(ConventionParty.convention_id, ConventionParty.organisation_id).where(
                col(ConventionParty.convention_id).in_(ids)
            )
        ):
            if (org := structures.canonical(org_id)) is not None:
                members.setdefault(convention_id, set()).add(stored_id(org))
    for c in reversed(conventions):  # the oldest wins a tie, the one the file updated before
        out[(c.kind, frozenset(members.get(stored_id(c), ())), c.starts_on)] = c
    return out


@dataclass
class _Line:
    checked: Checked | None
    existing: Convention | None


def _check_lines(
    session: Session, territory_id: int, table: Table
) -> tuple[ImportPreview, list[_Line]]:
    preview = ImportPreview()
    lines: list[_Line] = []
    missing = missing_columns(table, ["type", "debut", "parties"])
    if missing:
        preview.file_errors.append(
            "Colonne(s) obligatoire(s) absente(s) : "
            + ", ".join(f"« {m} »" for m in missing)
            + ". La première ligne doit donner les noms des colonnes : "
            + ", ".join(CONVENTION_COLUMNS)
            + "."
        )
        return preview, lines
    if not table.rows:
        preview.file_errors.append("Le fichier ne contient aucune ligne de données.")
        return preview, lines
    directory = _Directory.load(session, territory_id)
    existing = _existing(session, territory_id)
    seen: dict[tuple, int] = {}
    for number, row in table.numbered():
        line = ImportLine(number, {k: row.get(k, "") for k in CONVENTION_COLUMNS})
        preview.lines.append(line)
        lines.append(_Line(None, None))
        if refused := row_problems(row):
            line.errors.extend(refused)
            continue
        kind_given = row.get("type", "").strip()
        kind = kind_code(kind_given) if kind_given else None
        if not kind_given:
            line.errors.append("Indiquez le type : convention, protocole, charte ou autre accord.")
        elif kind is None:
            line.errors.append(
                f"Type « {kind_given[:60]} » inconnu : convention, protocole, charte ou autre accord."
            )
        data = ConventionData(
            kind=kind or "convention",
            title=row.get("intitule", ""),
            reference=row.get("reference", ""),
            starts_on=row.get("debut", ""),
            ends_on=row.get("fin", ""),
        ).cleaned()
        errors, _ = check_convention(session, territory_id, data)
        line.errors.extend(
            errors[name]
            for name in ("title", "reference", "starts_on", "ends_on")
            if name in errors
        )
        parties, party_errors = _line_parties(session, directory, row.get("parties", ""))
        line.errors.extend(party_errors)
        starts = parse_date(data.starts_on)
        if line.errors or kind is None or starts is None:
            continue
        key = _line_key(kind, parties, starts)
        if key in seen:
            line.errors.append(f"Cette convention figure déjà ligne {seen[key]}.")
            continue
        seen[key] = number
        checked = Checked(
            kind, data.title, data.reference, starts, parse_date(data.ends_on), parties
        )
        found = existing.get(key)
        lines[-1] = _Line(checked, found)
        line.action = "update" if found else "create"
        if found is not None and not found.active:
            line.note = "convention archivée"
    return preview, lines


def preview_convention_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check every line against the directory, the stored conventions and the rest of the
    file; writes nothing. A line with the same kind, parties and start as a stored
    convention updates it (title, reference, end); the others create conventions."""
    return _check_lines(session, territory_id, table)[0]


def apply_convention_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check the file again and, only if every line is valid, write it all (not committed)."""
    preview, lines = _check_lines(session, territory_id, table)
    if not preview.ok:
        raise Refused("Le fichier contient des erreurs : rien n'a été enregistré.")
    for line in lines:
        if line.checked is None:  # pragma: no cover - preview.ok means every line is checked
            raise Refused("Le fichier contient des erreurs : rien n'a été enregistré.")
        convention = line.existing or Convention(
            territory_id=territory_id, starts_on=line.checked.starts_on
        )
        _store(session, convention, line.checked)
    return preview


def import_summary(preview: ImportPreview) -> str:
    """The sentence counting what a correct file will do."""
    return (
        f"{preview.count('create')} convention(s) à créer, "
        f"{preview.count('update')} à mettre à jour."
    )


def export_conventions(session: Session, territory_id: int) -> tuple[list[str], list[list[str]]]:
    """Active conventions as rows of CONVENTION_COLUMNS: the file imports back unchanged."""
    rows = [
        [
            r.convention.kind,
            r.convention.title,
            r.convention.reference,
            format_date(r.convention.starts_on),
            format_date(r.convention.ends_on),
            f" {PARTY_SEPARATOR} ".join(p.name for p in r.parties),
        ]
        for r in list_conventions(session, territory_id)
    ]
    return CONVENTION_COLUMNS, rows
