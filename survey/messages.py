"""French messages for validation errors (pydantic's and ours)."""

from __future__ import annotations

from typing import Any

from survey import text

_BY_TYPE: dict[str, str] = {
    "missing": "Ce champ est obligatoire.",
    "int_parsing": "Indiquez un nombre entier.",
    "int_type": "Indiquez un nombre entier.",
    "int_from_float": "Indiquez un nombre entier.",
    "float_parsing": "Indiquez un nombre.",
    "bool_parsing": "Répondez par oui ou par non.",
    "bool_type": "Répondez par oui ou par non.",
    "string_type": "Un texte est attendu ici.",
    "string_unicode": "Ce texte contient des caractères illisibles.",
    "list_type": "Une liste est attendue ici.",
    "model_type": "Un objet est attendu ici.",
    "model_attributes_type": "Un objet est attendu ici.",
    "dict_type": "Un objet est attendu ici.",
    "json_invalid": "Le contenu envoyé n'est pas du JSON valide.",
    "json_type": "Le contenu envoyé n'est pas du JSON valide.",
    "date_parsing": "Indiquez une date (AAAA-MM-JJ).",
    "date_from_datetime_parsing": "Indiquez une date (AAAA-MM-JJ).",
    "extra_forbidden": "Ce champ n'est pas attendu.",
}


# A code outside a vocabulary of the questionnaire (its fields are Literal types, see
# survey.vocab): the sentence says what to choose, as survey.questionnaire.check does.
CHOICES: dict[str, str] = {
    "years_in_post": "Choisissez une durée dans la liste.",
    "nature": "Choisissez formel, informel ou les deux.",
    "frequency": "Choisissez une fréquence dans la liste.",
    "quality": "Choisissez une appréciation dans la liste.",
    "type": "Choisissez un type de structure.",
}
_PARAMETERS = ("query", "path", "header", "cookie")


def not_a_choice(value: object) -> str:
    """For a code of a list (frames, practices, obstacles…) that is not in its vocabulary."""
    return f"« {str(value)[:40]} » n'est pas une réponse possible."


def _choice_message(error: dict[str, Any]) -> str:
    loc: tuple = error.get("loc") or ()
    value = error.get("input", "")
    if loc[:1] and loc[0] in _PARAMETERS:  # a filter of the graph API, not an answer
        return f"« {str(value)[:40]} » n'est pas dans la liste proposée."
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    return CHOICES.get(name) or not_a_choice(value)


def pydantic_message(error: dict[str, Any]) -> str:
    """A French sentence for one pydantic error dict."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == text.ERROR_TYPE:
        return error["msg"]  # survey.text's refusal, which names the field
    if kind in ("literal_error", "enum"):
        return _choice_message(error)
    if kind == "string_too_long":
        return f"Texte trop long : {ctx.get('max_length')} caractères au maximum."
    if kind == "string_too_short":
        return "Ce champ ne peut pas être vide."
    if kind == "too_long":
        return f"Trop d'éléments : {ctx.get('max_length')} au maximum."
    if kind in ("greater_than_equal", "greater_than"):
        return f"La valeur doit être au moins {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"La valeur doit être au plus {ctx.get('le', ctx.get('lt'))}."
    return _BY_TYPE.get(kind, "Valeur invalide.")


def field_path(loc: tuple | list) -> str:
    """'links.0.nature' from pydantic's location, without the leading 'body'; an item of a
    list of codes or ids is its field ('obstacles', not 'obstacles.2'), as in `check`."""
    parts = [p for p in loc if p != "body"]
    if len(parts) > 1 and isinstance(parts[-1], int) and parts[-2] != "links":
        parts.pop()
    return ".".join(str(p) for p in parts) or "__root__"


def pydantic_problems(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"field": field_path(e.get("loc", ())), "message": pydantic_message(e)} for e in errors]
