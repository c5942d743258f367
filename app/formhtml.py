"""HTML of the questionnaire's repeated inputs, written in Python.

A questionnaire page repeats radios and checkboxes for each partner, hidden fields for each
partner under review and the directory. Produced by Jinja macros these were most of the
page's CPU (measured with bench/load.py --flow page); here each group is a join of
f-strings, and the directory is one `<datalist>` per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from markupsafe import Markup, escape

from survey import fields


def choice_inputs(
    kind: str, name: str, id: str, options: Iterable[tuple[object, str]], selected: object
) -> Markup:
    """The labelled radios or checkboxes of a group; the first input carries `id` (error
    links point at it), the next ones `id-2`, `id-3`…"""
    name_attr = escape(name)
    chosen = set(selected) if kind == "checkbox" else {selected}
    out = []
    for index, (value, label) in enumerate(options, start=1):
        iid = escape(id if index == 1 else f"{id}-{index}")
        text = str(value)
        checked = " checked" if text in chosen else ""
        out.append(
            f'<label class="choice" for="{iid}"><input type="{kind}" name="{name_attr}" '
            f'id="{iid}" value="{escape(text)}"{checked}> <span>{escape(label)}</span></label>'
        )
    return Markup("\n".join(out))


class PartnerDatalist:
    """The directory as one `<datalist>` per page, under the search field of every partner
    being added: a label per structure (« Nom (Commune) ») and per service (« Nom —
    Service »), and the map from what can be typed back to the partner's value.

    Built from `survey.directory.partner_entries`; `PartnerDatalist.of` caches it on them,
    as every respondent of a territory gets the same directory."""

    ID = "annuaire"

    def __init__(self, entries: Iterable[tuple], key: Callable[[str], str]) -> None:
        parts = [f'<datalist id="{self.ID}">']
        self.values: dict[str, str] = {}  # key(label) -> "ORGID" or "ORGID:SERVICEID"
        self.labels: dict[str, str] = {}  # value -> label
        by_name: dict[str, set[str]] = {}
        for org_id, name, commune, service_id, service_name in entries:
            value = str(org_id)
            if value not in self.labels:
                self._add(parts, key, value, f"{name} ({commune})" if commune else name)
                by_name.setdefault(key(name), set()).add(value)
            if service_id is not None:
                self._add(parts, key, f"{org_id}:{service_id}", f"{name} — {service_name}")
        # A structure's bare name works too, unless two structures share it.
        for name, values in by_name.items():
            if len(values) == 1:
                self.values.setdefault(name, next(iter(values)))
        parts.append("</datalist>")
        self.html = Markup("".join(parts))

    def _add(self, parts: list[str], key: Callable[[str], str], value: str, label: str) -> None:
        self.values[key(label)] = value
        self.labels[value] = label
        parts.append(f'<option value="{escape(label)}"></option>')

    @classmethod
    @lru_cache(maxsize=64)
    def of(cls, entries: tuple, key: Callable[[str], str]) -> PartnerDatalist:
        """The datalist of these entries, built once while they do not change."""
        return cls(entries, key)


# The answers of a partner shown as one line travel back in hidden fields (the form posts
# every partner: a save replaces the whole response).
_HIDDEN_TEXT = (
    "partner",
    "carried_from_id",
    *(f.name for f in fields.LINK_FIELDS if f.kind not in ("codes", "bool")),
)
_HIDDEN_LISTS = tuple(f.name for f in fields.LINK_FIELDS if f.kind == "codes")
_HIDDEN_CHECKBOXES = tuple(f.name for f in fields.LINK_FIELDS if f.kind == "bool")


def hidden_answers(prefix: str, link) -> Markup:
    """Hidden inputs carrying a `LinkForm`'s answers (all but its status)."""
    out = [f'<input type="hidden" name="{prefix}origin" value="carried">'] if link.carried else []
    for name in _HIDDEN_TEXT:
        value = getattr(link, name)
        if value:
            out.append(f'<input type="hidden" name="{prefix}{name}" value="{escape(value)}">')
    for name in _HIDDEN_LISTS:
        for value in getattr(link, name):
            out.append(f'<input type="hidden" name="{prefix}{name}" value="{escape(value)}">')
    for name in _HIDDEN_CHECKBOXES:
        if getattr(link, name):
            out.append(f'<input type="hidden" name="{prefix}{name}" value="on">')
    return Markup("".join(out))


REVIEW_CHOICES = (("confirmed", "Inchangé"), ("edit", "À modifier"), ("ended", "Plus de contact"))


def card_anchor(card) -> str:
    """The id of a partner on the page, stable across saves (« Modifier » comes back to it)."""
    link = card.link
    return "partenaire-" + (link.partner.replace(":", "-") if link.partner else f"n{card.slot}")


def field_error(id: str, errors: dict[str, list[str]]) -> str:
    """The error message of a field, as the `error` macro of questionnaire/_fields.html."""
    messages = errors.get(id)
    if not messages:
        return ""
    return (
        f'<p class="field-error" id="{escape(id)}-error"><span class="visually-hidden">'
        f"Erreur : </span>{escape(' '.join(messages))}</p>"
    )


def review_row(card, errors: dict[str, list[str]]) -> Markup:
    """One partner carried from last year as one line: its name and what it was, its answers
    in hidden fields, « Inchangé / À modifier / Plus de contact », and the button that opens
    its questions without JavaScript. Written in Python: a page repeats it for every partner."""
    link = card.link
    p = f"l{card.slot}-"
    status_error = errors.get(f"{p}status")
    described = f' aria-describedby="{p}status-error"' if status_error else ""
    recap = f' <span class="recap">{escape(card.recap)}</span>' if card.recap else ""
    return Markup(
        f'<fieldset class="partner review-row {escape(link.status)}'
        f'{" with-errors" if card.errors else ""}" id="{escape(card_anchor(card))}" '
        f'data-slot="{card.slot}"{described}>\n'
        f'<legend><span class="partner-name">{escape(card.name)}</span>{recap}</legend>\n'
        f"{hidden_answers(p, link)}\n{field_error(f'{p}status', errors)}\n"
        f'<div class="review-choices">\n'
        f"{choice_inputs('radio', f'{p}status', f'{p}status', REVIEW_CHOICES, card.choice)}\n"
        f'<button type="submit" name="action" value="edit:{card.slot}" class="link-button '
        f'no-js">Modifier ses réponses</button>\n</div>\n</fieldset>'
    )
