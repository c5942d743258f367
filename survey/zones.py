"""Zones: sub-territories (UTAS, EPCI, bassin de vie…) defined as sets of communes.

A structure is in the zone its coordinator placed it in by hand (`Organisation.zone_id`),
else in the zone holding its commune (matched on the folded name, so « GUERET » and
« Guéret » are the same commune). The zones of a territory form one partition: a commune
is in at most one zone.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, func, select, update
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from survey import vocab
from survey.db import changed_rows, stored_id, table_of
from survey.directory import (
    ImportLine,
    ImportPreview,
    Invalid,
    Refused,
    normalize_name,
)
from survey.models import Organisation, Zone, ZoneCommune
from survey.tabular import Table, missing_columns
from survey.text import field_problems, row_problems

_org = table_of(Organisation)
_zone = table_of(Zone)
_zc = table_of(ZoneCommune)


def commune_key(commune: str) -> str:
    """The key a commune is matched on: case, accents, hyphens and apostrophes folded."""
    return normalize_name(commune)


def structure_zones(session: Session, territory_id: int) -> dict[int, tuple[int, str]]:
    """Organisation id -> (zone id, zone name) for every structure of the territory that is
    in a zone (by hand, else by its commune). Structures in no zone are absent."""
    by_hand = _zone.alias("by_hand")
    by_commune = _zone.alias("by_commune")
    zc = _zc.alias("zc")
    rows = session.execute(
        select(
            _org.c.id,
            _org.c.commune,
            by_hand.c.id.label("hand_id"),
            by_hand.c.name.label("hand_name"),
        )
        .select_from(
            _org.outerjoin(
                by_hand,
                and_(by_hand.c.id == _org.c.zone_id, by_hand.c.territory_id == territory_id),
            )
        )
        .where(_org.c.territory_id == territory_id)
    ).all()
    communes = {
        r.key: (r.id, r.name)
        for r in session.execute(
            select(zc.c.key, by_commune.c.id, by_commune.c.name)
            .join(by_commune, by_commune.c.id == zc.c.zone_id)
            .where(by_commune.c.territory_id == territory_id)
        )
    }
    out: dict[int, tuple[int, str]] = {}
    for r in rows:
        if r.hand_id is not None:
            out[r.id] = (r.hand_id, r.hand_name)
        elif r.commune and (found := communes.get(commune_key(r.commune))):
            out[r.id] = found
    return out


def zone_counts(session: Session, territory_id: int) -> dict[int, int]:
    """Zone id -> number of communes it holds."""
    rows = session.execute(
        select(_zone.c.id, func.count(_zc.c.key))
        .select_from(_zone.outerjoin(_zc, _zc.c.zone_id == _zone.c.id))
        .where(_zone.c.territory_id == territory_id)
        .group_by(_zone.c.id)
    )
    return {zid: int(n) for zid, n in rows}


# --- managing zones ------------------------------------------------------------------------
# Functions below never commit: the caller adds its audit event and commits. Invalid input
# raises survey.directory.Invalid (French message per field), a refused action Refused.

ZONE_LABELS = {"name": "Nom de la zone"}
COMMUNE_LABELS = {"commune": "Commune"}
ACCEPT_UNKNOWN_LABEL = "Accepter les communes où l'annuaire n'a encore aucune structure"
MAX_NAME = 120


def zone_kind_code(value: str) -> str | None:
    """A zone kind from its code or label, as a person would type it ('UTAS', 'bassin de vie')."""
    key = normalize_name(value)
    for code, label in vocab.ZONE_KINDS.items():
        if key in (normalize_name(code), normalize_name(label)):
            return code
    return None


def get_zone(session: Session, territory_id: int, zone_id: int) -> Zone | None:
    """The zone if it belongs to the territory (never another territory's)."""
    zone = session.get(Zone, zone_id)
    if zone is None or zone.territory_id != territory_id:
        return None
    return zone


def zones_of(session: Session, territory_id: int) -> list[Zone]:
    """The territory's zones by name."""
    zones = session.exec(sm_select(Zone).where(Zone.territory_id == territory_id)).all()
    return sorted(zones, key=lambda z: normalize_name(z.name))


def communes_of(session: Session, zone: Zone) -> list[ZoneCommune]:
    """The communes of `zone`, by name."""
    rows = session.exec(sm_select(ZoneCommune).where(ZoneCommune.zone_id == zone.id)).all()
    return sorted(rows, key=lambda c: c.key)


def _refuse_invisible(name: str, value: str, labels: dict[str, str]) -> None:
    if errors := field_problems({name: value}, labels):
        raise Invalid(errors)


def _clean(text: str) -> str:
    return " ".join(text.split())


def check_zone(
    session: Session, territory_id: int, name: str, kind: str, current_id: int | None = None
) -> dict[str, str]:
    """Problems with a zone's name and kind (already cleaned), by field."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Indiquez le nom de la zone."
    elif len(name) > MAX_NAME:
        errors["name"] = "Le nom est trop long : 120 caractères au maximum."
    else:
        twin = next(
            (
                z
                for z in zones_of(session, territory_id)
                if normalize_name(z.name) == normalize_name(name) and z.id != current_id
            ),
            None,
        )
        if twin is not None:
            errors["name"] = f"Une zone porte déjà ce nom : « {twin.name} »."
    if kind not in vocab.ZONE_KINDS:
        errors["kind"] = "Choisissez le type de zone dans la liste."
    return errors


def create_zone(session: Session, territory_id: int, name: str, kind: str) -> Zone:
    """A new zone without communes; Invalid when the name is empty or taken."""
    _refuse_invisible("name", name, ZONE_LABELS)
    name, kind = _clean(name), kind.strip()
    if errors := check_zone(session, territory_id, name, kind):
        raise Invalid(errors)
    zone = Zone(territory_id=territory_id, name=name, kind=kind)
    session.add(zone)
    session.flush()
    return zone


def update_zone(session: Session, zone: Zone, name: str, kind: str) -> Zone:
    """Rename `zone` and change its kind; its communes stay."""
    _refuse_invisible("name", name, ZONE_LABELS)
    name, kind = _clean(name), kind.strip()
    if errors := check_zone(session, zone.territory_id, name, kind, current_id=zone.id):
        raise Invalid(errors)
    zone.name, zone.kind = name, kind
    session.add(zone)
    session.flush()
    return zone


def delete_zone(session: Session, zone: Zone) -> int:
    """Delete `zone` and its communes; structures placed in it by hand go back to the zone
    of their commune (there is no foreign key to do it). Returns how many were placed."""
    placed = changed_rows(
        session.execute(
            update(_org)
            .where(_org.c.territory_id == zone.territory_id, _org.c.zone_id == zone.id)
            .values(zone_id=None)
        )
    )
    session.execute(delete(_zc).where(_zc.c.zone_id == zone.id))
    session.delete(zone)
    session.flush()
    return placed


@dataclass
class ZoneRow:
    zone: Zone
    kind_label: str
    communes: list[ZoneCommune]
    structures: int  # active structures in the zone, by hand or by commune


def list_zones(session: Session, territory_id: int) -> list[ZoneRow]:
    """The territory's zones by name, with their communes and active structures."""
    zones = zones_of(session, territory_id)
    communes: dict[int, list[ZoneCommune]] = {}
    if zones:
        for zc in session.exec(
            sm_select(ZoneCommune).where(col(ZoneCommune.zone_id).in_([z.id for z in zones]))
        ):
            communes.setdefault(zc.zone_id, []).append(zc)
    active = _active_ids(session, territory_id)
    counts: dict[int, int] = {}
    for org_id, (zone_id, _name) in structure_zones(session, territory_id).items():
        if org_id in active:
            counts[zone_id] = counts.get(zone_id, 0) + 1
    return [
        ZoneRow(
            z,
            vocab.ZONE_KINDS.get(z.kind, z.kind),
            sorted(communes.get(stored_id(z), []), key=lambda c: c.key),
            counts.get(stored_id(z), 0),
        )
        for z in zones
    ]


def _active_ids(session: Session, territory_id: int) -> set[int]:
    return set(
        session.execute(
            select(_org.c.id).where(_org.c.territory_id == territory_id, _org.c.status == "active")
        ).scalars()
    )


# --- communes ------------------------------------------------------------------------------


def known_communes(session: Session, territory_id: int) -> dict[str, str]:
    """Folded commune -> its spelling, for every commune a structure of the territory's
    directory (merged ones left out) is in."""
    rows = session.execute(
        select(_org.c.commune)
        .where(_org.c.territory_id == territory_id, _org.c.status != "merged", _org.c.commune != "")
        .distinct()
    ).scalars()
    out: dict[str, str] = {}
    for commune in sorted(rows):
        out.setdefault(commune_key(commune), commune)
    return out


def _owners(session: Session, territory_id: int) -> dict[str, Zone]:
    """Folded commune -> the zone of the territory holding it."""
    zones = {z.id: z for z in zones_of(session, territory_id)}
    if not zones:
        return {}
    rows = session.exec(sm_select(ZoneCommune).where(col(ZoneCommune.zone_id).in_(list(zones))))
    return {zc.key: zones[zc.zone_id] for zc in rows}


def _unknown_commune(commune: str, known: dict[str, str], accept_unknown: bool) -> str:
    """The refusal of a commune no structure is in ("" when it is known or accepted)."""
    key = commune_key(commune)
    if accept_unknown or key in known:
        return ""
    message = f"Commune inconnue : aucune structure de l'annuaire n'est à « {commune[:MAX_NAME]} »."
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    if close:
        message += f" Vouliez-vous dire « {known[close[0]]} » ?"
    return message + f" Sinon, cochez « {ACCEPT_UNKNOWN_LABEL} »."


def _overlap(commune: str, owner: Zone) -> str:
    return (
        f"Chevauchement : « {commune} » est déjà dans la zone « {owner.name} » ; "
        "une commune n'appartient qu'à une zone."
    )


def add_commune(session: Session, zone: Zone, commune: str, accept_unknown: bool = False) -> bool:
    """Put `commune` in `zone`: True when added, False when it was already there. Invalid
    when it is empty, unknown to the directory (unless `accept_unknown`) or in another zone."""
    _refuse_invisible("commune", commune, COMMUNE_LABELS)
    commune = _clean(commune)
    key = commune_key(commune)
    if not key:
        raise Invalid({"commune": "Indiquez le nom de la commune."})
    if len(commune) > MAX_NAME:
        raise Invalid(
            {"commune": "Le nom de la commune est trop long : 120 caractères au maximum."}
        )
    owner = _owners(session, zone.territory_id).get(key)
    if owner is not None and owner.id != zone.id:
        raise Invalid({"commune": _overlap(commune, owner)})
    if owner is not None:
        return False
    known = known_communes(session, zone.territory_id)
    if problem := _unknown_commune(commune, known, accept_unknown):
        raise Invalid({"commune": problem})
    session.add(ZoneCommune(zone_id=stored_id(zone), key=key, commune=commune))
    session.flush()
    return True


def remove_commune(session: Session, zone: Zone, key: str) -> ZoneCommune | None:
    """Take the commune of folded name `key` out of `zone`; None when it is not in it."""
    found = session.get(ZoneCommune, (zone.id, key))
    if found is None:
        return None
    session.delete(found)
    session.flush()
    return found


# --- structures ----------------------------------------------------------------------------


@dataclass
class Placement:
    """Where a structure is: the zone of its commune, and the one it was placed in by hand."""

    organisation: Organisation
    by_commune: Zone | None
    by_hand: Zone | None

    @property
    def zone(self) -> Zone | None:
        return self.by_hand or self.by_commune


def placements(session: Session, territory_id: int) -> list[Placement]:
    """The active structures of the territory by name, each with its zone(s)."""
    orgs = session.exec(
        sm_select(Organisation).where(
            Organisation.territory_id == territory_id, Organisation.status == "active"
        )
    ).all()
    zones = {z.id: z for z in zones_of(session, territory_id)}
    owners = _owners(session, territory_id)
    out = [
        Placement(
            o,
            owners.get(commune_key(o.commune)) if o.commune else None,
            zones.get(o.zone_id) if o.zone_id is not None else None,
        )
        for o in orgs
    ]
    return sorted(out, key=lambda p: normalize_name(p.organisation.name))


def set_structure_zone(session: Session, org: Organisation, zone: Zone | None) -> None:
    """Place `org` in `zone` by hand, or (None) back in the zone of its commune."""
    if zone is not None and zone.territory_id != org.territory_id:
        raise Refused("Cette zone n'est pas celle de ce territoire.")
    if org.status != "active":
        raise Refused("Seule une structure active peut être placée dans une zone.")
    org.zone_id = zone.id if zone is not None else None
    session.add(org)
    session.flush()


# --- import and export ---------------------------------------------------------------------

ZONE_COLUMNS = ["commune", "zone", "type"]
ZONE_ALIASES = {
    "ville": "commune",
    "nomcommune": "commune",
    "nomdelacommune": "commune",
    "secteur": "zone",
    "nomzone": "zone",
    "nomdelazone": "zone",
    "typedezone": "type",
    "typezone": "type",
    "kind": "type",
}


@dataclass
class _ZoneLine:
    commune: str
    key: str
    zone_name: str
    kind: str
    existing: Zone | None


@dataclass
class _Checked:
    preview: ImportPreview = field(default_factory=ImportPreview)
    lines: list[_ZoneLine] = field(default_factory=list)


def _check_zone_lines(
    session: Session, territory_id: int, table: Table, accept_unknown: bool
) -> _Checked:
    out = _Checked()
    preview = out.preview
    missing = missing_columns(table, ["commune", "zone"])
    if missing:
        preview.file_errors.append(
            "Colonne(s) obligatoire(s) absente(s) : "
            + ", ".join(f"« {m} »" for m in missing)
            + ". La première ligne doit donner les noms des colonnes : commune ; zone ; type "
            "(facultatif)."
        )
        return out
    if not table.rows:
        preview.file_errors.append("Le fichier ne contient aucune ligne de données.")
        return out
    known = known_communes(session, territory_id)
    owners = _owners(session, territory_id)
    zones = {normalize_name(z.name): z for z in zones_of(session, territory_id)}
    seen_pairs: dict[tuple[str, str], int] = {}
    seen_communes: dict[str, tuple[int, str]] = {}  # key -> (line, zone name)
    new_kinds: dict[str, tuple[int, str]] = {}  # zone key -> (line, kind) for new zones
    for number, row in table.numbered():
        line = ImportLine(number, {k: row.get(k, "") for k in ZONE_COLUMNS})
        preview.lines.append(line)
        if refused := row_problems(row):
            line.errors.extend(refused)
            continue
        commune, zone_name = _clean(row.get("commune", "")), _clean(row.get("zone", ""))
        kind_given = row.get("type", "").strip()
        key, zone_key = commune_key(commune), normalize_name(zone_name)
        if not key:
            line.errors.append("La commune est vide.")
        elif len(commune) > MAX_NAME:
            line.errors.append("Le nom de la commune dépasse 120 caractères.")
        if not zone_key:
            line.errors.append("Le nom de la zone est vide.")
        elif len(zone_name) > MAX_NAME:
            line.errors.append("Le nom de la zone dépasse 120 caractères.")
        kind = zone_kind_code(kind_given) if kind_given else "autre"
        if kind is None:
            line.errors.append(
                f"Type de zone « {kind_given[:60]} » inconnu : "
                + ", ".join(vocab.ZONE_KINDS.values())
                + "."
            )
        if line.errors or kind is None:
            continue
        existing = zones.get(zone_key)
        if existing is not None and kind_given and existing.kind != kind:
            line.errors.append(
                f"La zone « {existing.name} » est du type "
                f"« {vocab.ZONE_KINDS.get(existing.kind, existing.kind)} » : corrigez la colonne "
                "type ou modifiez la zone."
            )
        elif existing is None and zone_key in new_kinds and kind_given:
            first_line, first_kind = new_kinds[zone_key]
            if first_kind != kind:
                line.errors.append(
                    f"La zone « {zone_name} » a le type "
                    f"« {vocab.ZONE_KINDS[first_kind]} » ligne {first_line}."
                )
        if (key, zone_key) in seen_pairs:
            line.errors.append(f"Cette ligne figure déjà ligne {seen_pairs[(key, zone_key)]}.")
            continue
        seen_pairs[(key, zone_key)] = number
        if key in seen_communes:
            first_line, first_zone = seen_communes[key]
            line.errors.append(
                f"Chevauchement : « {commune} » figure déjà ligne {first_line} dans la zone "
                f"« {first_zone} » ; une commune n'appartient qu'à une zone."
            )
            continue
        seen_communes[key] = (number, zone_name)
        owner = owners.get(key)
        if owner is None:
            if problem := _unknown_commune(commune, known, accept_unknown):
                line.errors.append(problem)
        elif normalize_name(owner.name) != zone_key:
            line.errors.append(_overlap(commune, owner))
        if line.errors:
            continue
        if existing is None and zone_key not in new_kinds:
            new_kinds[zone_key] = (number, kind)
            line.note = "nouvelle zone"
        if owner is not None:
            line.action = "present"
        else:
            line.action = "add"
            kind = existing.kind if existing is not None else new_kinds[zone_key][1]
            out.lines.append(_ZoneLine(commune, key, zone_name, kind, existing))
    return out


def preview_zone_import(
    session: Session, territory_id: int, table: Table, accept_unknown: bool = False
) -> ImportPreview:
    """Check every `commune;zone[;type]` line against the directory's communes, the zones
    already defined and the rest of the file; writes nothing. A zone named and absent is
    created; a commune already in its zone is « déjà là »; nothing is ever removed."""
    return _check_zone_lines(session, territory_id, table, accept_unknown).preview


def apply_zone_import(
    session: Session, territory_id: int, table: Table, accept_unknown: bool = False
) -> ImportPreview:
    """Check the file again and, only if every line is valid, write it all (not committed)."""
    checked = _check_zone_lines(session, territory_id, table, accept_unknown)
    if not checked.preview.ok:
        raise Refused("Le fichier contient des erreurs : rien n'a été enregistré.")
    created: dict[str, Zone] = {}
    for line in checked.lines:
        zone = line.existing or created.get(normalize_name(line.zone_name))
        if zone is None:
            zone = Zone(territory_id=territory_id, name=line.zone_name, kind=line.kind)
            session.add(zone)
            session.flush()
            created[normalize_name(line.zone_name)] = zone
        session.add(ZoneCommune(zone_id=stored_id(zone), key=line.key, commune=line.commune))
    session.flush()
    return checked.preview


def zone_import_summary(preview: ImportPreview) -> str:
    """The sentence counting what a correct file will do."""
    created = sum(1 for line in preview.lines if line.note == "nouvelle zone")
    return (
        f"{preview.count('add')} commune(s) à ajouter, {preview.count('present')} déjà là, "
        f"{created} zone(s) à créer."
    )


def export_zones(session: Session, territory_id: int) -> tuple[list[str], list[list[str]]]:
    """Every commune of every zone as rows of ZONE_COLUMNS: the file imports back unchanged."""
    rows = [
        [c.commune, r.zone.name, r.zone.kind]
        for r in list_zones(session, territory_id)
        for c in r.communes
    ]
    return ZONE_COLUMNS, rows


__all__ = [
    "ACCEPT_UNKNOWN_LABEL",
    "Placement",
    "ZONE_ALIASES",
    "ZONE_COLUMNS",
    "ZoneRow",
    "add_commune",
    "apply_zone_import",
    "check_zone",
    "commune_key",
    "communes_of",
    "create_zone",
    "delete_zone",
    "export_zones",
    "get_zone",
    "known_communes",
    "list_zones",
    "placements",
    "preview_zone_import",
    "remove_commune",
    "set_structure_zone",
    "structure_zones",
    "update_zone",
    "zone_counts",
    "zone_import_summary",
    "zone_kind_code",
    "zones_of",
]
