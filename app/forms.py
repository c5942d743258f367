"""The questionnaire's HTML form: posted fields -> `Answers`, and `Answers` -> fields.

The form is kept as plain strings (`FormState`) so that whatever a person typed can be shown
again on a validation error, even values that cannot become `Answers` (a count "beaucoup",
an oversized comment). Parsing never raises: junk becomes `Problem`s.

Field names: top-level fields by their `Answers` name; partner slot n as ``l{n}-{field}``,
the partner itself as ``l{n}-partner`` = "ORGID" or "ORGID:SERVICEID", or, for a partner being
added, ``l{n}-partner_search``: the text typed in the search field over the directory (one
`<datalist>` per page), matched to a partner by `parse`.

A partner carried from last year has a status: "confirmed" (« Inchangé »), "edit" (« À
modifier »: confirmed, its questions shown), "ended" (« Plus de contact ») or none yet. A
carried partner whose questions are on the page (a card, not a line) also sends
``l{n}-questions`` = "shown": « À modifier » chosen on a line without JavaScript opened
nothing, and submitting then must not store last year's answers unseen (`edits_not_shown`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import parse_qsl

from pydantic import ValidationError

from survey import fields
from survey.directory import normalize_name
from survey.messages import pydantic_message
from survey.questionnaire import MAX_LINKS, Answers, LinkAnswer, Problem, listed_partners
from survey.text import forbidden_character

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_FIELDS = 20_000
EMPTY_SLOTS = 3
ACTIONS = ("save", "submit", "more", "confirm_all")
# The last field of the form: without it the body was cut short and must not be saved.
END_MARKER = "formulaire_complet"
# The value of ``l{n}-questions`` when a carried partner's questions are on the page.
QUESTIONS_SHOWN = "shown"
# « À modifier » chosen on a line whose questions never opened (no JavaScript), at submit.
EDIT_NOT_SHOWN = (
    "Vous avez choisi « À modifier » pour {partner} : vérifiez ses réponses ci-dessous, "
    "puis envoyez."
)
SLOT_NAME = re.compile(r"^l(\d{1,4})-([a-z_]+)$")
_ID = re.compile(r"^\d{1,9}$")

# A partner's questions as the form carries them (`survey.fields`): several codes as lists,
# a checkbox as a bool, everything else as one string.
LINK_LIST_FIELDS = tuple(f.name for f in fields.LINK_FIELDS if f.kind == "codes")
LINK_CHECKBOX_FIELDS = tuple(f.name for f in fields.LINK_FIELDS if f.kind == "bool")
LINK_TEXT_FIELDS = (
    "partner",
    "partner_search",
    "write_in_name",
    "write_in_type",
    "write_in_commune",
    "origin",
    "status",
    "carried_from_id",
    *(f.name for f in fields.LINK_FIELDS if f.kind not in ("codes", "bool")),
)


class UnreadableForm(Exception):
    """The body is not a readable form (bad UTF-8, too many fields)."""


def _with_undeclared_questions(cls: type[_Form]) -> type[_Form]:
    """`LinkForm`, or a subclass with the registered questions it does not declare (see
    `survey.fields.with_undeclared_questions`): lists, checkboxes, or strings."""
    declared = {f.name for f in dataclasses.fields(cls)}
    missing = [
        (f.name, list[str], field(default_factory=list))
        if f.kind == "codes"
        else (f.name, bool, field(default=False))
        if f.kind == "bool"
        else (f.name, str, field(default=""))
        for f in fields.LINK_FIELDS
        if f.name not in declared
    ]
    if not missing:
        return cls
    return dataclasses.make_dataclass(cls.__name__, missing, bases=(cls,))


_Form = TypeVar("_Form")


@_with_undeclared_questions
@dataclass
class LinkForm:
    """One partner slot as typed (strings only)."""

    partner: str = ""
    partner_search: str = ""
    write_in_name: str = ""
    write_in_type: str = ""
    write_in_commune: str = ""
    origin: str = ""  # "carried" for a partner carried forward from last year
    status: str = "new"
    carried_from_id: str = ""
    nature: str = ""
    frames: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    frequency: str = ""
    practices: list[str] = field(default_factory=list)
    practice_other: str = ""
    thematiques: list[str] = field(default_factory=list)
    has_named_contact: str = ""  # "yes" | "no" | ""
    contact_name: str = ""
    contact_consent: bool = False
    quality: str = ""
    remove: bool = False
    editing: bool = False  # « À modifier » chosen: show the partner's questions
    questions_shown: bool = False  # its questions were on the page (a card, not a line)

    @property
    def is_empty(self) -> bool:
        """An untouched "add a partner" slot, ignored on save."""
        return not (
            self.partner or self.partner_search or self.write_in_name or self.write_in_commune
        )

    @property
    def carried(self) -> bool:
        """Carried forward from last year: confirmed or ended, never removed."""
        return self.origin == "carried"

    @property
    def org_id(self) -> int | None:
        head = self.partner.split(":", 1)[0]
        return int(head) if _ID.match(head) else None

    @property
    def service_id(self) -> int | None:
        parts = self.partner.split(":", 1)
        return int(parts[1]) if len(parts) == 2 and _ID.match(parts[1]) else None


@dataclass
class FormState:
    """The whole form as typed."""

    function: str = ""
    years_in_post: str = ""
    declared_partner_count: str = ""
    links: list[LinkForm] = field(default_factory=list)
    obstacles: list[str] = field(default_factory=list)
    obstacle_other: str = ""
    body_ids: list[str] = field(default_factory=list)
    body_other: str = ""
    comment: str = ""


@dataclass
class Parsed:
    """The outcome of reading a posted form."""

    state: FormState
    action: str  # save | submit | more | confirm_all | edit
    answers: Answers | None
    problems: list[Problem]
    # answers.links[i] was typed in state.links[slot_of[i]]: problems are reported there.
    slot_of: list[int]


# --- body -> pairs ---------------------------------------------------------------------


def read_pairs(body: bytes) -> list[tuple[str, str]]:
    """Decode an application/x-www-form-urlencoded body, refusing invalid UTF-8."""
    try:
        text = body.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadableForm(str(exc)) from None


# --- pairs -> state --------------------------------------------------------------------


def _first(values: dict[str, list[str]], name: str) -> str:
    got = values.get(name)
    if not got:
        return ""
    # A character survey.text refuses stays put, even at an edge, to be refused like the
    # API refuses it: strip() would silently drop U+001C-U+001F, which Python calls spaces.
    return got[0] if forbidden_character(got[0]) else got[0].strip()


def state_from_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[FormState, str]:
    """The typed form and the button pressed. Slots are kept in index order."""
    top: dict[str, list[str]] = {}
    slots: dict[int, dict[str, list[str]]] = {}
    for name, value in pairs:
        m = SLOT_NAME.match(name)
        if m:
            slots.setdefault(int(m.group(1)), {}).setdefault(m.group(2), []).append(value)
        else:
            top.setdefault(name, []).append(value)
    state = FormState(
        **{
            f.name: top.get(f.name, []) if f.kind == "codes" else _first(top, f.name)
            for f in fields.RESPONSE_FIELDS
        }
    )
    by_slot: dict[int, LinkForm] = {}
    for index in sorted(slots):
        raw = slots[index]
        link = LinkForm(
            **{name: _first(raw, name) for name in LINK_TEXT_FIELDS},
            **{name: raw.get(name, []) for name in LINK_LIST_FIELDS},
            **{name: bool(_first(raw, name)) for name in LINK_CHECKBOX_FIELDS},
            remove=bool(_first(raw, "remove")),
            questions_shown=_first(raw, "questions") == QUESTIONS_SHOWN,
        )
        if not link.carried:
            link.status = "new"
        elif link.status == "edit":
            link.status, link.editing = "confirmed", True
        elif link.status not in ("confirmed", "ended"):
            link.status = "pending"
        if not link.is_empty:
            state.links.append(link)
            by_slot[index] = link
    action = _first(top, "action")
    if action.startswith("edit:") and _ID.match(action[5:]):
        # « Modifier » on one partner (the button that stands in for JavaScript without
        # it): its questions open, and it counts as still worked with.
        link = by_slot.get(int(action[5:]))
        if link is not None:
            link.editing = True
            if link.carried and link.status == "pending":
                link.status = "confirmed"
        return state, "edit"
    return state, action if action in ACTIONS else "save"


# --- state -> answers ------------------------------------------------------------------


def _or_none(value: str) -> str | None:
    return value or None


def search_key(text: str) -> str:
    """How a typed partner name is compared with the directory: case, accents, dashes,
    apostrophes and spaces do not matter."""
    return normalize_name(text)


def _matches(typed: str, directory: Mapping[str, str]) -> set[str]:
    """The directory's values whose label has, for every word typed, a word starting with
    it: « cap emploi » finds « Cap emploi de la Creuse », « udaf creuse » « UDAF de la
    Creuse », « ccas gueret » « CCAS de Guéret (Guéret) »."""
    words = search_key(typed).split()
    if not words:
        return set()
    return {
        value
        for label, value in directory.items()
        if all(any(w.startswith(t) for w in label.split()) for t in words)
    }


def _resolve_search(
    link: LinkForm, path: str, problems: list[Problem], directory: Mapping[str, str]
) -> None:
    """Turn the typed search text into the partner it names, or say what to do.

    The label as listed; else, a shorter form naming a single structure of the directory
    (one of its services when the words name only that one): a phone's « Go » pressed
    before a proposal was picked need not cost a round of errors."""
    if link.partner or not link.partner_search:
        return
    value = directory.get(search_key(link.partner_search))
    if value is None and not link.write_in_name:  # else the search text was a first try
        found = _matches(link.partner_search, directory)
        structures = {v.split(":", 1)[0] for v in found}
        if len(found) == 1:
            value = next(iter(found))
        elif len(structures) == 1:
            value = next(iter(structures))
        elif structures:
            problems.append(
                Problem(
                    f"{path}.partner_organisation_id",
                    f"« {link.partner_search[:80]} » correspond à {len(structures)} structures "
                    "du répertoire : choisissez la bonne parmi les propositions qui "
                    "s'affichent en tapant, ou précisez le nom.",
                )
            )
            return
    if value is not None:
        link.partner = value
        return
    if link.write_in_name:
        return  # written in below: the search text was a first try
    problems.append(
        Problem(
            f"{path}.partner_organisation_id",
            f"« {link.partner_search[:80]} » n'est pas dans le répertoire : choisissez une des "
            "propositions qui s'affichent en tapant, ou ouvrez « Votre partenaire n'est pas "
            "dans la liste ? » pour l'ajouter.",
        )
    )


def _answer_of(f: fields.AnswerField, value):
    """A question's form value as `LinkAnswer` reads it (pydantic turns "yes", "3"… into
    their types)."""
    return _or_none(value) if f.kind in ("code", "int", "yes_no") else value


def _form_value_of(f: fields.AnswerField, value):
    """A question's answer as the form shows it."""
    if f.kind in ("code", "int", "yes_no"):
        if value is None:
            return ""
        if f.kind == "yes_no":
            return "yes" if value else "no"
        return str(value)
    return list(value) if f.kind == "codes" else value


def _link_data(link: LinkForm, path: str, problems: list[Problem]) -> dict:
    data: dict = {
        "status": link.status,
        **{f.name: _answer_of(f, getattr(link, f.name)) for f in fields.LINK_FIELDS},
    }
    if _ID.match(link.carried_from_id):
        data["carried_from_id"] = int(link.carried_from_id)
    if link.partner:
        if link.org_id is None or (":" in link.partner and link.service_id is None):
            problems.append(
                Problem(
                    f"{path}.partner_organisation_id", "Choisissez un partenaire dans la liste."
                )
            )
        data["partner_organisation_id"] = link.org_id
        data["partner_service_id"] = link.service_id
        if link.write_in_name:
            problems.append(
                Problem(
                    f"{path}.write_in.name",
                    "Choisissez le partenaire dans la liste ou écrivez son nom, pas les deux.",
                )
            )
    else:
        data["write_in"] = {
            "name": link.write_in_name,
            "type": link.write_in_type or "autre",
            "commune": link.write_in_commune,
        }
    return data


def parse(pairs: Iterable[tuple[str, str]], directory: Mapping[str, str] | None = None) -> Parsed:
    """Read a posted form. `answers` is None when problems were found.

    `directory` maps `search_key(label)` to a partner value ("ORGID" or "ORGID:SERVICEID"):
    the search text of a partner being added is matched against it."""
    return parse_state(*state_from_pairs(pairs), directory)


def parse_state(
    state: FormState, action: str, directory: Mapping[str, str] | None = None
) -> Parsed:
    """`parse` of a form already read with `state_from_pairs` (the page reads it first to
    know which partners the directory must include)."""
    problems: list[Problem] = []
    links: list[dict] = []
    slot_of: list[int] = []
    for slot, link in enumerate(state.links):
        if link.remove and not link.carried:
            continue
        if len(links) == MAX_LINKS:
            problems.append(Problem("links", f"Trop de partenaires : {MAX_LINKS} au maximum."))
            break
        path = f"links.{len(links)}"
        _resolve_search(link, path, problems, directory or {})
        links.append(_link_data(link, path, problems))
        slot_of.append(slot)

    body_ids: list[int] = []
    for raw in state.body_ids:
        if _ID.match(raw):
            body_ids.append(int(raw))
        else:
            problems.append(Problem("body_ids", "Une instance choisie n'existe pas."))
            break
    data = {
        **{f.name: _answer_of(f, getattr(state, f.name)) for f in fields.RESPONSE_FIELDS},
        "links": links,
        "body_ids": body_ids,  # read above: row ids, not codes
    }
    answers: Answers | None = None
    try:
        answers = Answers.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(Problem(_error_path(error["loc"]), pydantic_message(error)))
    if problems:
        answers = None
    return Parsed(state, action, answers, problems, slot_of)


def edits_not_shown(parsed: Parsed) -> list[Problem]:
    """A problem for each partner carried from last year left « À modifier » while its
    questions were never shown (a line, without JavaScript): sent as it is, it would be
    stored as unchanged with last year's answers. The page then comes back with its
    questions open (a partner with a problem is shown as a card)."""
    return [
        Problem(f"links.{index}.status", EDIT_NOT_SHOWN.format(partner="ce partenaire"))
        for index, slot in enumerate(parsed.slot_of)
        if (link := parsed.state.links[slot]).carried
        and link.editing
        and link.status == "confirmed"
        and not link.questions_shown
    ]


def _error_path(loc: tuple) -> str:
    """'links.0.frames' for pydantic's ('links', 0, 'frames', 3): the field, not the item."""
    parts = list(loc)
    if len(parts) > 1 and isinstance(parts[-1], int) and parts[-2] != "links":
        parts.pop()
    return ".".join(str(p) for p in parts)


# --- answers -> state ------------------------------------------------------------------


def _partner_value(a: LinkAnswer) -> str:
    if a.partner_organisation_id is None:
        return ""
    if a.partner_service_id is None:
        return str(a.partner_organisation_id)
    return f"{a.partner_organisation_id}:{a.partner_service_id}"


def link_form(a: LinkAnswer) -> LinkForm:
    write_in = a.write_in if a.write_in and not a.partner_organisation_id else None
    return LinkForm(
        partner=_partner_value(a),
        write_in_name=write_in.name if write_in else "",
        write_in_type=write_in.type if write_in else "",
        write_in_commune=write_in.commune if write_in else "",
        origin="carried" if a.carried_from_id or a.status != "new" else "",
        status=a.status,
        carried_from_id="" if a.carried_from_id is None else str(a.carried_from_id),
        **{f.name: _form_value_of(f, getattr(a, f.name)) for f in fields.LINK_FIELDS},
    )


def state_from_answers(answers: Answers) -> FormState:
    """The form filled with stored (or carried forward) answers. A partner count equal to
    the list's is shown blank, which means the same: sending stores a blank as the list's
    count, and shown as a number it stayed behind when a partner was added later, a total
    smaller than the list that sending refuses."""
    state = FormState(
        **{
            f.name: _form_value_of(f, getattr(answers, f.name))
            for f in fields.RESPONSE_FIELDS
            if f.name != "body_ids"  # row ids, not codes: as strings below
        },
        links=[link_form(a) for a in answers.links],
        body_ids=[str(b) for b in answers.body_ids],
    )
    listed = listed_partners(answers)
    if listed and answers.declared_partner_count == listed:
        state.declared_partner_count = ""
    return state


# --- problems -> field ids -------------------------------------------------------------

# Which input a link problem points at; the partner choice covers the organisation,
# the service and the write-in as a whole.
_LINK_FIELD_IDS = {
    "partner_organisation_id": "partner",
    "partner_service_id": "partner",
    "write_in": "partner",
    "write_in.name": "write_in_name",
    "write_in.type": "write_in_type",
    "write_in.commune": "write_in_commune",
}


def field_id(path: str, slot_of: list[int]) -> str:
    """The HTML id of the field a problem path ("links.2.nature") is about."""
    parts = path.split(".")
    if parts[0] == "links" and len(parts) >= 3 and parts[1].isdecimal():
        index = int(parts[1])
        slot = slot_of[index] if index < len(slot_of) else index
        rest = ".".join(parts[2:])
        name = _LINK_FIELD_IDS.get(rest, parts[2])
        return f"l{slot}-{name}"
    if parts[0] == "links":
        return "f-links"
    return f"f-{parts[0]}"
