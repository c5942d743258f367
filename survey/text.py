"""One rule for free text, at every entry: characters that XML 1.0 forbids are refused.

These are U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+FFFE, U+FFFF and lone surrogates
(U+D800–U+DFFF). Nobody types them on purpose: they come from a copy-paste or from a tool.
Stored, they make the GEXF and GraphML exports unreadable (Gephi, networkx and igraph refuse
the file), and PostgreSQL refuses NUL outright. TAB, LF and CR are ordinary text (multi-line
fields need them) and stay allowed everywhere.

Refused rather than stripped: a form, the JSON API, an import line or a `carte` argument
holding one gets a 4xx (exit code 2 on the command line) with a French message naming the
field, and nothing is written. Silently dropping characters would store something other
than what the person sent, without telling them; a refusal says what to fix and keeps
the service's data exactly what its users wrote. The rule lives here and every entry calls
it: `free_text` on the questionnaire's pydantic models (HTML form and JSON API alike), the
checks of survey.accounts, survey.directory, survey.professionals, survey.campaigns and
survey.mailing, the import previews (`row_problems`) and the `carte` command (app/cli.py).

Outputs do not rely on it: the exports strip the same characters at write time
(`strip_forbidden`), whatever an older version or a hand edit left in the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The pydantic error type of `free_text`: survey.messages shows its message as it is.
ERROR_TYPE = "invisible_character"


def forbidden_character(value: str) -> str | None:
    """The first character of `value` that the rule refuses, or None."""
    found = FORBIDDEN.search(value)
    return found.group() if found else None


def message(label: str, char: str) -> str:
    """The French refusal naming the field (its label as the person sees it)."""
    return (
        f"Ce texte contient un caractère invisible non autorisé (U+{ord(char):04X}) "
        f"dans « {label} » : effacez-le (il vient souvent d'un copier-coller), puis réessayez."
    )


def problem(value: str, label: str) -> str | None:
    """The refusal for `value`, or None when it may be stored."""
    char = forbidden_character(value)
    return None if char is None else message(label, char)


def field_problems(values: Mapping[str, object], labels: Mapping[str, str]) -> dict[str, str]:
    """{field: refusal} for the fields of `labels` whose text `values` refuses."""
    problems = {}
    for name, label in labels.items():
        value = values.get(name)
        if isinstance(value, str) and (found := problem(value, label)):
            problems[name] = found
    return problems


def row_problems(row: Mapping[str, str]) -> list[str]:
    """One refusal per cell of an imported line, naming its column."""
    return [
        found
        for column, value in row.items()
        if isinstance(value, str) and (found := problem(value, f"colonne {column}"))
    ]


def strip_forbidden(value: str) -> str:
    """`value` without the refused characters: for outputs only, never for what is stored."""
    return FORBIDDEN.sub("", value)


def free_text(label: str) -> BeforeValidator:
    """The rule for a pydantic text field: `Annotated[str, free_text("Votre fonction")]`.

    It runs before the text is validated as a string, so a lone surrogate sent in JSON
    (`"\\ud800"`) gets the same refusal as the other characters."""

    def refuse(value: object) -> object:
        if isinstance(value, str) and (char := forbidden_character(value)) is not None:
            raise PydanticCustomError(ERROR_TYPE, message(label, char))
        return value

    return BeforeValidator(refuse)


# When the database itself refuses a text that slipped past the entries (app/main.py).
UNSTORABLE = (
    "Ce texte contient un caractère invisible non autorisé : rien n'a été enregistré. "
    "Effacez-le (il vient souvent d'un copier-coller), puis réessayez."
)
