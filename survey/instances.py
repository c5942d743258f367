"""Instances (bodies): the commissions and coordination meetings where several structures sit.

Coordinators record each instance (kind, convening structure, frequency, thématiques) and
its official member structures; respondents say in the questionnaire which ones they take
part in (survey.questionnaire). Here: create, edit, archive and restore; add and remove
members; import and export as tables with the directory's preview flow.

Functions here never commit: the caller adds its audit event and commits, so one user action
is one transaction. Invalid input raises `survey.directory.Invalid` (French message per
field); a refused action raises `Refused` (one French sentence), `UnknownStructure` when the
structure is not one of the territory's.

Merges re-point answers, not these rows: a member or convener merged since is read as the
structure it was merged into, so lists never name a merged structure nor the same one twice.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlmodel import Session, col, select

from survey import vocab
from survey.db import stored_id
from survey.directory import (
    STATUS_LABELS,
    ImportLine,
    ImportPreview,
    Invalid,
    Refused,
    TerritoryStructures,
    normalize_name,
    refuse_invisible,
)
from survey.models import Body, BodyMember, Organisation
from survey.tabular import Table, missing_columns
from survey.text import row_problems

NAME_MAX = 200
DESCRIPTION_MAX = 500
MAX_MEMBERS = 2000  # more than a large département's structures
DEFAULT_KIND = "commission"
STORED_SEPARATOR = ","  # between thématique codes in Body.thematiques
FILE_SEPARATOR = "|"  # between names or labels in a cell of an imported file

LABELS = {"name": "Nom de l'instance", "description": "Description"}


class UnknownStructure(Refused):
    """The structure asked for is not one of the territory's (or does not exist)."""


# --- reading -------------------------------------------------------------------------------


@dataclass
class InstanceData:
    """What a form or an import line gives for an instance (members apart)."""

    name: str = ""
    kind: str = DEFAULT_KIND
    convener_id: int | None = None
    frequency: str = ""
    thematiques: list[str] = field(default_factory=list)
    description: str = ""

    def cleaned(self) -> InstanceData:
        chosen = {code.strip() for code in self.thematiques}
        known = [code for code in vocab.THEMATIQUES if code in chosen]
        return InstanceData(
            name=" ".join(self.name.split()),
            kind=self.kind.strip(),
            convener_id=self.convener_id,
            frequency=self.frequency.strip(),
            # Vocabulary order, duplicates dropped; an unknown code stays to be refused.
            thematiques=known + sorted(chosen - set(known) - {""}),
            description=self.description.strip(),
        )


def data_of(body: Body) -> InstanceData:
    """The stored values of `body`, as a form shows them."""
    return InstanceData(
        name=body.name,
        kind=body.kind,
        convener_id=body.convener_id,
        frequency=body.frequency,
        thematiques=thematique_codes(body),
        description=body.description,
    )


def thematique_codes(body: Body) -> list[str]:
    return [code for code in body.thematiques.split(STORED_SEPARATOR) if code]


@dataclass
class InstanceRow:
    """An instance with its convener and its official members (merges followed)."""

    body: Body
    convener: Organisation | None
    members: list[Organisation]

    @property
    def kind_label(self) -> str:
        return vocab.BODY_KINDS.get(self.body.kind, self.body.kind)

    @property
    def frequency_label(self) -> str:
        return vocab.BODY_FREQUENCIES.get(self.body.frequency, "")

    @property
    def thematique_labels(self) -> list[str]:
        return [vocab.THEMATIQUES.get(c, c) for c in thematique_codes(self.body)]


class _Structures(TerritoryStructures):
    """The territory's structures, and their names for the import."""

    def by_name(self) -> dict[str, Organisation]:
        """Folded name -> structure it is now. A merged structure's old name leads to the one
        it was merged into, unless a current structure bears that name."""
        out: dict[str, Organisation] = {}
        for org in sorted(self.by_id.values(), key=lambda o: (o.status != "merged", o.id)):
            if (now := self.canonical(org.id)) is not None:
                out[normalize_name(org.name)] = now
        return out

    def current_names(self) -> dict[str, str]:
        """Folded name -> name, for the structures a line may name (to suggest one)."""
        return {normalize_name(o.name): o.name for o in self.by_id.values() if o.status == "active"}


def get_instance(session: Session, territory_id: int, body_id: int) -> Body | None:
    """The instance if it belongs to the territory (never another territory's)."""
    if not 0 < body_id < 2**31:  # beyond a database id: PostgreSQL would refuse the query
        return None
    body = session.get(Body, body_id)
    if body is None or body.territory_id != territory_id:
        return None
    return body


def _member_ids(session: Session, body_ids: Iterable[int]) -> dict[int, list[int]]:
    ids = list(body_ids)
    out: dict[int, list[int]] = {i: [] for i in ids}
    if not ids:
        return out
    for body_id, org_id in session.exec(
        select(BodyMember.body_id, BodyMember.organisation_id).where(
            col(BodyMember.body_id).in_(ids)
        )
    ):
        out[body_id].append(org_id)
    return out


def _rows(session: Session, territory_id: int, bodies: list[Body]) -> list[InstanceRow]:
    structures = _Structures.load(session, territory_id)
    members = _member_ids(session, (stored_id(b) for b in bodies))
    rows = []
    for body in bodies:
        now = {o.id: o for i in members[stored_id(body)] if (o := structures.canonical(i))}
        rows.append(
            InstanceRow(
                body,
                structures.canonical(body.convener_id),
                sorted(now.values(), key=lambda o: normalize_name(o.name)),
            )
        )
    return rows


def list_instances(session: Session, territory_id: int) -> list[InstanceRow]:
    """Every instance of the territory, archived ones too, by name, with members."""
    bodies = list(session.exec(select(Body).where(Body.territory_id == territory_id)))
    bodies.sort(key=lambda b: normalize_name(b.name))
    return _rows(session, territory_id, bodies)


def instance_row(session: Session, body: Body) -> InstanceRow:
    """One instance with its convener and members."""
    return _rows(session, body.territory_id, [body])[0]


def structure_choices(
    session: Session, territory_id: int, include_ids: Iterable[int] = ()
) -> list[tuple[vocab.Family, list[Organisation]]]:
    """The structures a coordinator may choose as members or convener, grouped by family:
    the active ones, plus `include_ids` (the current members, which stay listed once
    archived so that saving keeps them)."""
    return _Structures.load(session, territory_id).choices(include_ids)


# --- checking ------------------------------------------------------------------------------


def _not_active(org: Organisation) -> str:
    """Why `org` cannot be chosen: it is archived or only proposed."""
    if org.status == "proposed":
        return (
            f"« {org.name} » a été proposée par un répondant et n'est pas encore confirmée : "
            "confirmez-la d'abord dans le répertoire."
        )
    status = STATUS_LABELS.get(org.status, org.status).lower()
    return f"« {org.name} » est {status} : seule une structure active peut être choisie."


def validate(
    session: Session,
    territory_id: int,
    data: InstanceData,
    current: Body | None = None,
    structures: _Structures | None = None,
) -> dict[str, str]:
    """Problems with `data` (already cleaned), by field; empty when it can be saved.

    Names are unique in the territory, archived instances included (an import line finds
    the instance it updates by its name). The convener is an active structure, or the one
    `current` already has."""
    structures = structures or _Structures.load(session, territory_id)
    errors: dict[str, str] = {}
    if not data.name:
        errors["name"] = "Indiquez le nom de l'instance."
    elif len(data.name) > NAME_MAX:
        errors["name"] = f"Le nom est trop long : {NAME_MAX} caractères au maximum."
    else:
        key = normalize_name(data.name)
        for other in session.exec(select(Body).where(Body.territory_id == territory_id)):
            if normalize_name(other.name) == key and (current is None or other.id != current.id):
                archived = "" if other.active else " (archivée)"
                errors["name"] = f"Une instance porte déjà ce nom : « {other.name} »{archived}."
                break
    if data.kind not in vocab.BODY_KINDS:
        errors["kind"] = "Choisissez un type d'instance dans la liste."
    if data.frequency and data.frequency not in vocab.BODY_FREQUENCIES:
        errors["frequency"] = "Choisissez une fréquence dans la liste (ou « non précisée »)."
    if any(code not in vocab.THEMATIQUES for code in data.thematiques):
        errors["thematiques"] = (
            "Une thématique cochée n'est pas dans la liste : cochez-les à nouveau."
        )
    if len(data.description) > DESCRIPTION_MAX:
        errors["description"] = (
            f"La description est trop longue : {DESCRIPTION_MAX} caractères au maximum."
        )
    if data.convener_id is not None:
        convener = structures.canonical(data.convener_id)
        was = structures.canonical(current.convener_id) if current else None
        if convener is None:
            errors["convener_id"] = "Choisissez la structure porteuse dans la liste."
        elif convener.status != "active" and (was is None or was.id != convener.id):
            errors["convener_id"] = _not_active(convener)
    return errors


def _members_now(
    structures: _Structures, org_ids: Sequence[int], current: set[int]
) -> tuple[list[Organisation], str]:
    """The structures `org_ids` are now, without repeats, and the first problem found (""
    when none): each must be a structure of the territory, active unless it is among
    `current` (the instance's members now, merges followed)."""
    if len(org_ids) > MAX_MEMBERS:
        return [], f"Trop de membres : {MAX_MEMBERS} au maximum."
    chosen: dict[int, Organisation] = {}
    for org_id in org_ids:
        org = structures.canonical(org_id)
        if org is None:
            return [], "Un des membres cochés n'est pas une structure du répertoire."
        if org.status != "active" and stored_id(org) not in current:
            return [], _not_active(org)
        chosen.setdefault(stored_id(org), org)
    return list(chosen.values()), ""


def _current_members(session: Session, structures: _Structures, body: Body) -> set[int]:
    ids = _member_ids(session, [stored_id(body)])[stored_id(body)]
    return {stored_id(o) for i in ids if (o := structures.canonical(i))}


# --- writing -------------------------------------------------------------------------------


def _store(body: Body, data: InstanceData, structures: _Structures) -> None:
    convener = structures.canonical(data.convener_id)
    body.name, body.kind, body.frequency = data.name, data.kind, data.frequency
    body.convener_id = convener.id if convener else None
    body.thematiques = STORED_SEPARATOR.join(data.thematiques)
    body.description = data.description


def _replace_members(session: Session, body: Body, members: list[Organisation]) -> None:
    session.execute(delete(BodyMember).where(col(BodyMember.body_id) == body.id))
    session.add_all(
        BodyMember(body_id=stored_id(body), organisation_id=stored_id(o)) for o in members
    )


def _save(
    session: Session,
    territory_id: int,
    data: InstanceData,
    body: Body | None,
    member_ids: Sequence[int] | None,
) -> Body:
    refuse_invisible(data, LABELS)
    data = data.cleaned()
    structures = _Structures.load(session, territory_id)
    errors = validate(session, territory_id, data, body, structures)
    members: list[Organisation] = []
    if member_ids is not None:
        current = _current_members(session, structures, body) if body else set()
        members, problem = _members_now(structures, member_ids, current)
        if problem:
            errors["members"] = problem
    if errors:
        raise Invalid(errors)
    body = body or Body(territory_id=territory_id, name=data.name)
    _store(body, data, structures)
    session.add(body)
    session.flush()
    if member_ids is not None:
        _replace_members(session, body, members)
        session.flush()
    return body


def create_instance(
    session: Session, territory_id: int, data: InstanceData, member_ids: Sequence[int] = ()
) -> Body:
    """A new active instance with its official members (structure ids of the territory)."""
    return _save(session, territory_id, data, None, member_ids)


def update_instance(
    session: Session, body: Body, data: InstanceData, member_ids: Sequence[int] | None = None
) -> Body:
    """Save `data` on `body`; `member_ids`, when given, replace its members."""
    return _save(session, body.territory_id, data, body, member_ids)


def archive_instance(session: Session, body: Body) -> None:
    """An archived instance leaves the questionnaire's list; past answers keep naming it and
    whoever ticked it still sees it (survey.questionnaire.bodies_to_show)."""
    if not body.active:
        raise Refused("Cette instance est déjà archivée.")
    body.active = False
    session.add(body)
    session.flush()


def restore_instance(session: Session, body: Body) -> None:
    if body.active:
        raise Refused("Cette instance n'est pas archivée.")
    body.active = True
    session.add(body)
    session.flush()


def add_member(session: Session, body: Body, org_id: int) -> tuple[Organisation, bool]:
    """Make the structure `org_id` (a merged one stands for the one it was merged into) an
    official member of `body`. Returns the structure and False when it already was one."""
    structures = _Structures.load(session, body.territory_id)
    org = structures.canonical(org_id)
    if org is None:
        raise UnknownStructure("Cette structure n'existe pas dans ce territoire.")
    if stored_id(org) in _current_members(session, structures, body):
        return org, False
    if org.status != "active":
        raise Refused(_not_active(org))
    session.add(BodyMember(body_id=stored_id(body), organisation_id=stored_id(org)))
    session.flush()
    return org, True


def remove_member(session: Session, body: Body, org_id: int) -> Organisation:
    """Remove the structure `org_id` (and any structure merged into it) from the members."""
    structures = _Structures.load(session, body.territory_id)
    org = structures.canonical(org_id)
    if org is None:
        raise UnknownStructure("Cette structure n'existe pas dans ce territoire.")
    rows = [
        i
        for i in _member_ids(session, [stored_id(body)])[stored_id(body)]
        if (now := structures.canonical(i)) is not None and now.id == org.id
    ]
    if not rows:
        raise Refused(f"« {org.name} » n'est pas membre de cette instance.")
    session.execute(
        delete(BodyMember).where(
            col(BodyMember.body_id) == body.id, col(BodyMember.organisation_id).in_(rows)
        )
    )
    session.flush()
    return org


# --- import and export ---------------------------------------------------------------------

INSTANCE_COLUMNS = [
    "nom",
    "type",
    "structure_porteuse",
    "frequence",
    "thematiques",
    "membres",
    "description",
]
# Header names as survey.tabular folds them (letters and digits only) -> column.
INSTANCE_ALIASES = {
    "instance": "nom",
    "name": "nom",
    "typedinstance": "type",
    "kind": "type",
    "structureporteuse": "structure_porteuse",
    "porteur": "structure_porteuse",
    "porteuse": "structure_porteuse",
    "convener": "structure_porteuse",
    "frequency": "frequence",
    "thematique": "thematiques",
    "membre": "membres",
    "members": "membres",
}
IMPORT_HINTS = (
    "Seule la colonne « nom » est obligatoire. Une instance déjà enregistrée (même nom, "
    "majuscules et accents indifférents) est mise à jour ; les autres sont créées.",
    "« type » : Commission, Instance de coordination, Réseau, Groupe de travail ou Autre ; "
    "« frequence » : Chaque semaine, Chaque mois, Chaque trimestre, Chaque année ou "
    "Ponctuellement (vide : non précisée).",
    "« structure_porteuse » et « membres » : des structures du répertoire, écrites comme dans "
    "celui-ci ; plusieurs membres sont séparés par « | ». Les membres du fichier remplacent "
    "ceux de l'instance.",
    "« thematiques » : les thématiques de data·inclusion séparées par « | » "
    "(par exemple « Logement et hébergement | Santé »).",
)


def _code(vocabulary: dict[str, str], value: str) -> str | None:
    """A code from a code or a label as a person types it ('monthly', 'chaque mois')."""
    value = value.strip()
    if value in vocabulary:
        return value
    key = normalize_name(value)
    for code, label in vocabulary.items():
        if key in (normalize_name(code), normalize_name(label)):
            return code
    return None


def _alike(value: str, names: dict[str, str]) -> str | None:
    """The one name of `names` (folded -> shown) closest to `value`, if one is alike."""
    key = normalize_name(value)
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    if close:
        return names[close[0]]
    contained = sorted(k for k in names if key and len(key) >= 3 and (key in k or k in key))
    return names[contained[0]] if contained else None


def _unknown(what: str, value: str, alike: str | None, hint: str, feminine: bool = True) -> str:
    message = f"{what} « {value[:80]} » inconnu{'e' if feminine else ''}"
    return f"{message} : vouliez-vous dire « {alike} » ?" if alike else f"{message} : {hint}"


def _split(cell: str) -> list[str]:
    """'CAF | CCAS de Guéret' -> ['CAF', 'CCAS de Guéret'] (blanks dropped, order kept)."""
    return [" ".join(part.split()) for part in cell.split(FILE_SEPARATOR) if part.strip()]


@dataclass
class _Line:
    """What one import line would write, and its problems."""

    data: InstanceData
    member_ids: list[int] | None  # None: the file has no « membres » column
    errors: list[str] = field(default_factory=list)


def _read_line(
    session: Session,
    territory_id: int,
    row: dict[str, str],
    existing: Body | None,
    structures: _Structures,
    names: dict[str, Organisation],
) -> _Line:
    """The instance an import line describes: columns present replace the stored values
    (an empty type keeps the current one), absent columns keep them."""
    errors: list[str] = []
    base = data_of(existing) if existing else InstanceData()
    data = InstanceData(name=row.get("nom", ""), kind=base.kind, convener_id=base.convener_id,
                        frequency=base.frequency, thematiques=base.thematiques,
                        description=row.get("description", base.description))  # fmt: skip
    kind_names = ", ".join(f"« {label} »" for label in vocab.BODY_KINDS.values())
    if given := row.get("type", "").strip():
        if (kind := _code(vocab.BODY_KINDS, given)) is None:
            errors.append(f"Type « {given[:60]} » inconnu : choisissez parmi {kind_names}.")
        else:
            data.kind = kind
    if "frequence" in row:
        given = row["frequence"].strip()
        frequency = _code(vocab.BODY_FREQUENCIES, given) if given else ""
        if frequency is None:
            choices = ", ".join(f"« {label} »" for label in vocab.BODY_FREQUENCIES.values())
            errors.append(
                f"Fréquence « {given[:60]} » inconnue : choisissez parmi {choices} "
                "(ou laissez la case vide)."
            )
        else:
            data.frequency = frequency
    if "thematiques" in row:
        data.thematiques = []
        labels = {normalize_name(label): label for label in vocab.THEMATIQUES.values()}
        for given in _split(row["thematiques"]):
            if (code := _code(vocab.THEMATIQUES, given)) is None:
                errors.append(
                    _unknown(
                        "Thématique",
                        given,
                        _alike(given, labels),
                        "voir la liste des thématiques de data·inclusion.",
                    )  # fmt: skip
                )
            else:
                data.thematiques.append(code)
    known = structures.current_names()
    if "structure_porteuse" in row:
        given = " ".join(row["structure_porteuse"].split())
        data.convener_id = None
        if given and (org := names.get(normalize_name(given))) is None:
            errors.append(
                _unknown(
                    "Structure porteuse",
                    given,
                    _alike(given, known),
                    "ajoutez-la d'abord au répertoire.",
                )  # fmt: skip
            )
        elif given and org is not None:
            data.convener_id = org.id
    member_ids: list[int] | None = None
    if "membres" in row:
        member_ids = []
        for given in _split(row["membres"]):
            if (org := names.get(normalize_name(given))) is None:
                errors.append(
                    _unknown(
                        "Membre",
                        given,
                        _alike(given, known),
                        "ajoutez la structure d'abord au répertoire.",
                        feminine=False,
                    )  # fmt: skip
                )
            else:
                member_ids.append(stored_id(org))
        current = _current_members(session, structures, existing) if existing else set()
        if problem := _members_now(structures, member_ids, current)[1]:
            errors.append(f"Membres : {problem}")
    data = data.cleaned()
    found = validate(session, territory_id, data, existing, structures)
    errors.extend(
        f"Structure porteuse : {m}" if k == "convener_id" else m for k, m in found.items()
    )
    return _Line(data, member_ids, errors)


def preview_instance_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check every line against the territory's instances and directory and against the
    rest of the file; writes nothing. A line whose name is an instance's already updates it
    (the members of the file replace its members); the others create instances."""
    preview = ImportPreview()
    if missing_columns(table, ["nom"]):
        preview.file_errors.append(
            "Colonne obligatoire absente : « nom ». La première ligne doit donner les noms des "
            "colonnes : " + ", ".join(INSTANCE_COLUMNS) + "."
        )
        return preview
    if not table.rows:
        preview.file_errors.append("Le fichier ne contient aucune ligne de données.")
        return preview
    bodies = {
        normalize_name(b.name): b
        for b in session.exec(select(Body).where(Body.territory_id == territory_id))
    }
    structures = _Structures.load(session, territory_id)
    names = structures.by_name()
    seen: dict[str, int] = {}
    for number, row in table.numbered():
        line = ImportLine(number, {k: row.get(k, "") for k in INSTANCE_COLUMNS})
        preview.lines.append(line)
        if refused := row_problems(row):
            line.errors.extend(refused)
            continue  # a line that cannot be stored as it is: nothing more to check
        key = normalize_name(row.get("nom", ""))
        existing = bodies.get(key)
        line.errors.extend(
            _read_line(session, territory_id, row, existing, structures, names).errors
        )
        if key and key in seen:
            line.errors.append(f"Cette instance figure déjà ligne {seen[key]}.")
        seen.setdefault(key, number)
        line.action = "update" if existing else "create"
        if existing is not None and not existing.active:
            line.note = "instance archivée"
    return preview


def apply_instance_import(session: Session, territory_id: int, table: Table) -> ImportPreview:
    """Check the file again and, only if every line is valid, write it all (not committed)."""
    preview = preview_instance_import(session, territory_id, table)
    if not preview.ok:
        raise Refused("Le fichier contient des erreurs : rien n'a été enregistré.")
    bodies = {
        normalize_name(b.name): b
        for b in session.exec(select(Body).where(Body.territory_id == territory_id))
    }
    structures = _Structures.load(session, territory_id)
    names = structures.by_name()
    for _number, row in table.numbered():
        existing = bodies.get(normalize_name(row["nom"]))
        line = _read_line(session, territory_id, row, existing, structures, names)
        body = existing or Body(territory_id=territory_id, name=line.data.name)
        _store(body, line.data, structures)
        session.add(body)
        session.flush()
        if line.member_ids is not None:
            members = [o for i in line.member_ids if (o := structures.canonical(i))]
            _replace_members(session, body, list({o.id: o for o in members}.values()))
    session.flush()
    return preview


def export_instances(session: Session, territory_id: int) -> tuple[list[str], list[list[str]]]:
    """Active instances as rows of INSTANCE_COLUMNS, labels rather than codes: the file
    imports back unchanged."""
    rows = [
        [
            r.body.name,
            r.kind_label,
            r.convener.name if r.convener else "",
            r.frequency_label,
            f" {FILE_SEPARATOR} ".join(r.thematique_labels),
            f" {FILE_SEPARATOR} ".join(o.name for o in r.members),
            r.body.description,
        ]
        for r in list_instances(session, territory_id)
        if r.body.active
    ]
    return INSTANCE_COLUMNS, rows


def import_summary(preview: ImportPreview) -> str:
    """What a correct file will do, for the preview page."""
    return (
        f"{preview.count('create')} instance(s) à créer, {preview.count('update')} à mettre à jour."
    )


def import_audit(preview: ImportPreview) -> str:
    """What an import did, for the audit log."""
    return f"{preview.count('create')} créée(s), {preview.count('update')} mise(s) à jour"
