"""HTML of the questionnaire's repeated inputs, written in Python.

A questionnaire page repeats radios and checkboxes for each partner, hidden fields for each
partner under review and the directory. Produced by Jinja macros these were most of the
page's CPU (measured with bench/load.py --flow page); here each group is a join of
f-strings, and the directory is one `<datalist>` per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from markupsafe import Markup, escape


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
    Service »), and the map from what can be typed back to the partner's value."""

    ID = "annuaire"

    def __init__(self, groups: Iterable, key: Callable[[str], str]) -> None:
        parts = [f'<datalist id="{self.ID}">']
        self.values: dict[str, str] = {}  # key(label) -> "ORGID" or "ORGID:SERVICEID"
        self.labels: dict[str, str] = {}  # value -> label
        by_name: dict[str, set[str]] = {}
        for group in groups:
            for choice in group.choices:
                org = choice.organisation
                entries = [
                    (str(org.id), f"{org.name} ({org.commune})" if org.commune else org.name)
                ]
                by_name.setdefault(key(org.name), set()).add(str(org.id))
                entries += [
                    (f"{org.id}:{svc.id}", f"{org.name} — {svc.name}") for svc in choice.services
                ]
                for value, label in entries:
                    self.values[key(label)] = value
                    self.labels[value] = label
                    parts.append(f'<option value="{escape(label)}"></option>')
        # A structure's bare name works too, unless two structures share it.
        for name, values in by_name.items():
            if len(values) == 1:
                self.values.setdefault(name, next(iter(values)))
        parts.append("</datalist>")
        self.html = Markup("".join(parts))


# The answers of a partner shown as one line travel back in hidden fields (the form posts
# every partner: a save replaces the whole response).
_HIDDEN_TEXT = (
    "partner", "carried_from_id", "nature", "frequency", "practice_other",
    "has_named_contact", "contact_name", "quality",
)  # fmt: skip
_HIDDEN_LISTS = ("frames", "channels", "practices", "thematiques")


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
    if link.contact_consent:
        out.append(f'<input type="hidden" name="{prefix}contact_consent" value="on">')
    return Markup("".join(out))
