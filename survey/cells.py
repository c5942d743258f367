"""The one place where the service writes CSV and XLSX cells.

A spreadsheet runs a cell starting with = + - @ (and, after a TAB or CR, one of those) as a
formula: a structure name written in by a respondent or imported by a coordinator must never
become one. Such text gets a leading apostrophe (OWASP's advice; Excel and LibreOffice then
show it as text, and `survey.tabular` removes it again on reading); real numbers stay numbers.
Characters an XLSX file cannot hold (control characters, U+FFFE/U+FFFF, lone surrogates) are
dropped, so whatever is already in the database, the file is written.

Every CSV and XLSX writer goes through `csv_text` / `xlsx_bytes`: tests/test_export_cells.py
fails on a `csv.writer(` or `Workbook(` anywhere else in app/, survey/ or reports/.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Not allowed in XML 1.0 (hence in XLSX), meaningless in CSV; TAB and LF are kept.
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


def cell(value: object, decimal_comma: bool = False) -> object:
    """What a cell may safely hold: numbers as they are, text without a formula.

    `decimal_comma` writes floats as French Excel reads them (three decimals, comma)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and decimal_comma:
        return f"{value:.3f}".replace(".", ",")
    if isinstance(value, int | float):
        return value
    text = _UNWRITABLE.sub("", str(value))
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_text(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    delimiter: str = ",",
    lineterminator: str = "\n",
    bom: bool = False,
    decimal_comma: bool = False,
) -> str:
    """A whole CSV file; `bom` (with `;` and CRLF) is the form French Excel opens directly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow([cell(h) for h in headers])
    for row in rows:
        writer.writerow([cell(v, decimal_comma) for v in row])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def xlsx_bytes(
    headers: Sequence[object], rows: Iterable[Sequence[object]], title: str = "Feuille 1"
) -> bytes:
    """A one-sheet workbook, bold frozen header. Text stays text (SIRET and codes keep their
    leading zeros), numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _UNWRITABLE.sub("", title)[:31] or "Feuille 1"
    sheet.append([cell(h) for h in headers])
    for header in sheet[1]:
        header.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
