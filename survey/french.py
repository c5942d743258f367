"""French formatting of numbers, dates and sentences, for the pages, the e-mails and the report.

Rules (Lexique des règles typographiques de l'Imprimerie nationale, as commonly applied on
screen): a no-break space before « : » and inside « guillemets », a narrow no-break space
before ; ! ? and %, thousands grouped by a narrow no-break space, a decimal comma, a real
minus sign, « 1er » for the first day of a month. DejaVu Sans (registered by reports.pdf)
has every one of these characters.
"""

from __future__ import annotations

import re
from datetime import date, datetime

NBSP = "\u00a0"
NNBSP = "\u202f"
MINUS = "\u2212"

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

# An XML entity (&amp; &#8239;) ends with ";" too: it is matched first and left alone.
_BEFORE_TALL = re.compile(r"(&#?\w+;)|[ \u00a0\u202f]*([;!?])")
_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]*:(?!//)")
_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]*»")


def text(s: str) -> str:
    """Put the French no-break spaces into a sentence (idempotent).

    A space is added before ; ! ? : only where French puts one: after a word or a closing
    sign, not at the very start and not in "http://" (the colon rule skips "://")."""
    s = _BEFORE_TALL.sub(lambda m: m.group(1) or NNBSP + m.group(2), s)
    s = _BEFORE_COLON.sub(NBSP + ":", s)
    s = _OPEN_QUOTE.sub("«" + NBSP, s)
    s = _CLOSE_QUOTE.sub(NBSP + "»", s)
    # A sign at the very start of the text keeps no space before it.
    return s.lstrip(NBSP + NNBSP)


def quote(s: str) -> str:
    """« s » with no-break spaces."""
    return f"«{NBSP}{s}{NBSP}»"


def integer(n: int) -> str:
    """12 345 (narrow no-break space), −3 with a real minus sign."""
    sign = MINUS if n < 0 else ""
    return sign + f"{abs(int(n)):,}".replace(",", NNBSP)


def decimal(x: float, digits: int = 1) -> str:
    """3,5 — decimal comma, thousands grouped."""
    sign = MINUS if x < 0 and round(abs(x), digits) != 0 else ""
    body = f"{abs(x):,.{digits}f}".replace(",", NNBSP).replace(".", ",")
    return sign + body


def number(x: int | float | None, digits: int = 1) -> str:
    """An integer as an integer, a float with `digits` decimals; None as an em dash."""
    if x is None:
        return "—"
    if isinstance(x, int) or float(x).is_integer():
        return integer(int(x))
    return decimal(float(x), digits)


def percent(share: float | None, digits: int = 0) -> str:
    """0.42 → « 42 % »; None → « — » (not computable)."""
    if share is None:
        return "—"
    return f"{decimal(share * 100, digits)}{NNBSP}%"


def signed(n: int | float | None, digits: int = 0) -> str:
    """+3, −2, 0 (a change)."""
    if n is None:
        return "—"
    value = round(float(n), digits)
    if value == 0:
        return "0" if digits == 0 else decimal(0.0, digits)
    body = integer(int(abs(value))) if digits == 0 else decimal(abs(value), digits)
    return ("+" if value > 0 else MINUS) + body


def points(change: float | None) -> str:
    """Change of a share, in percentage points: +7 pts, −2 pts, « stable »."""
    if change is None:
        return "—"
    value = round(change * 100)
    if value == 0:
        return "stable"
    return f"{signed(value)}{NBSP}pt{'s' if abs(value) > 1 else ''}"


def date_fr(value: date | datetime | None, space: str = NBSP) -> str:
    """« 1er mars 2026 », « 24 novembre 2026 »; "" for None. `space` goes between the day
    and the month: a no-break one on pages and in the report, so a day never ends a line;
    the plain-text e-mails pass a plain space."""
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day}{space}{MONTHS[value.month - 1]} {value.year}"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """« 1 structure », « 12 structures » (French: 0 and 1 take the singular)."""
    word = singular if abs(n) < 2 else (plural_form or singular + "s")
    return f"{integer(n)}{NBSP}{word}"
