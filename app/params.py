"""Reading numbers typed in URLs and forms.

`str.isdigit()` is true for « ² » or « ① », which `int()` refuses: a check with it followed by
`int()` turned such input into a 500. `str.isdecimal()` is exactly what `int()` accepts, and
a length cap keeps the number within the databases' 32-bit ids.
"""

from __future__ import annotations

MAX_ID_DIGITS = 9  # below 2**31 - 1, the largest id PostgreSQL's INTEGER holds


def small_int(raw: str, digits: int = MAX_ID_DIGITS) -> int | None:
    """The number `raw` spells (at most `digits` digits), or None."""
    raw = raw.strip()
    return int(raw) if raw.isdecimal() and len(raw) <= digits else None
