"""Reading and writing small tables as CSV or XLSX, the way French offices exchange them.

Reading accepts UTF-8 (with or without BOM) and, failing that, Windows-1252, which is what
French Excel writes when saving "CSV (séparateur : point-virgule)"; the delimiter (`;`, `,`
or tab) is taken from the header line. Writing gives either plain UTF-8 CSV with commas or
the French Excel form (BOM, semicolons, CRLF), which Excel opens with accents intact.

Cells that a spreadsheet would run as a formula (starting with = + - @) are written with a
leading apostrophe (`survey.cells`, shared by every export), which is removed again on
reading: exports cannot smuggle formulas.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from survey import cells
from survey.text import forbidden_character

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
_FORMULA_START = ("=", "+", "-", "@")
_XLSX_MAGIC = b"PK\x03\x04"


class TabularError(Exception):
    """A file that cannot be read as a table; the message is French and shown as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """A read table: normalised header names and one dict per data row.

    `line_numbers[i]` is the number a spreadsheet shows for `rows[i]` (header is line 1),
    so error messages can point at the line the user sees.
    """

    headers: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)

    def numbered(self) -> list[tuple[int, dict[str, str]]]:
        return list(zip(self.line_numbers, self.rows, strict=True))


def header_key(name: str) -> str:
    """'Fonction ', 'E-mail', 'Téléphone' -> 'fonction', 'email', 'telephone'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in text if ch.isalnum())


def _clean_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n")
    # A character survey.text refuses stays, even at an edge, so that the preview refuses its
    # line: strip() would silently drop U+001C-U+001F, which Python counts as spaces.
    text = text if forbidden_character(text) else text.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        text = text[1:]
    return text


# --- reading -------------------------------------------------------------------------------


def read_table(data: bytes, filename: str = "", aliases: dict[str, str] | None = None) -> Table:
    """Parse an uploaded CSV or XLSX file. Raises TabularError with a French message.

    `aliases` maps extra normalised header names to the canonical key (e.g. 'mail' -> 'email').
    """
    if not data:
        raise TabularError("Le fichier est vide.")
    if len(data) > MAX_BYTES:
        raise TabularError(
            f"Le fichier est trop volumineux ({len(data) // 1024} Ko) : "
            f"{MAX_BYTES // (1024 * 1024)} Mo au maximum."
        )
    lower = filename.lower()
    if data.startswith(_XLSX_MAGIC) or lower.endswith((".xlsx", ".xlsm")):
        grid = _read_xlsx(data)
    elif lower.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TabularError(
            "Les fichiers .xls (ancien format d'Excel) ne sont pas lus : enregistrez le fichier "
            "au format .xlsx ou CSV."
        )
    elif lower.endswith(".ods"):
        raise TabularError("Enregistrez le fichier au format .xlsx ou CSV.")
    else:
        grid = _read_csv(data)
    return _to_table(grid, aliases or {})


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise TabularError("L'encodage du fichier est illisible.") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise TabularError(
            "L'encodage du fichier n'est pas reconnu : enregistrez-le en CSV UTF-8 "
            "ou en CSV (séparateur : point-virgule) depuis Excel."
        ) from exc
    if "\x00\x00" in text:
        raise TabularError("Ce fichier n'est pas un fichier texte (CSV) ni un classeur .xlsx.")
    return text


def _read_csv(data: bytes) -> list[list[str]]:
    # Binary formats are full of NUL runs; a lone NUL in a text file is a cell that the
    # preview refuses on its line (survey.text), not a reason to reject the whole file.
    if b"\x00\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TabularError("Ce fichier n'est pas un fichier texte (CSV) ni un classeur .xlsx.")
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        grid = []
        for row in reader:
            grid.append(row)
            if len(grid) > MAX_ROWS + 1:
                raise TabularError(f"Le fichier dépasse {MAX_ROWS} lignes : découpez-le.")
    except csv.Error as exc:
        raise TabularError(
            f"Le fichier CSV est mal formé (ligne {reader.line_num}) : vérifiez les guillemets."
        ) from exc
    return grid


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise TabularError("Ce classeur .xlsx est illisible ou endommagé.") from exc
    except Exception as exc:  # openpyxl raises assorted errors on foreign files
        raise TabularError("Ce classeur .xlsx est illisible ou endommagé.") from exc
    try:
        sheet = workbook.worksheets[0]
        grid = []
        for row in sheet.iter_rows(values_only=True):
            grid.append([_clean_cell(v) for v in row])
            if len(grid) > MAX_ROWS + 1:
                raise TabularError(f"Le fichier dépasse {MAX_ROWS} lignes : découpez-le.")
        return grid
    except TabularError:
        raise
    except Exception as exc:
        raise TabularError("Ce classeur .xlsx est illisible ou endommagé.") from exc
    finally:
        workbook.close()


def _to_table(grid: list[list[str]], aliases: dict[str, str]) -> Table:
    # The header is the first line with any content; rows that are entirely empty are skipped.
    start = next((i for i, row in enumerate(grid) if any(_clean_cell(c) for c in row)), None)
    if start is None:
        raise TabularError("Le fichier ne contient aucune ligne.")
    headers = [aliases.get(header_key(h), header_key(h)) for h in grid[start]]
    table = Table(headers=headers)
    for offset, row in enumerate(grid[start + 1 :], start=start + 2):
        cells = [_clean_cell(c) for c in row]
        if not any(cells):
            continue
        record = {}
        for key, value in zip(headers, cells, strict=False):
            if key and key not in record:
                record[key] = value
        for key in headers:
            record.setdefault(key, "")
        table.rows.append(record)
        table.line_numbers.append(offset)
    return table


def missing_columns(table: Table, required: list[str]) -> list[str]:
    return [name for name in required if name not in table.headers]


# --- writing -------------------------------------------------------------------------------


def write_csv(headers: list[str], rows: list[list[object]], excel_fr: bool = False) -> bytes:
    """UTF-8 CSV; with `excel_fr`, the form French Excel opens directly (BOM, `;`, CRLF)."""
    text = (
        cells.csv_text(headers, rows, delimiter=";", lineterminator="\r\n", bom=True)
        if excel_fr
        else cells.csv_text(headers, rows)
    )
    return text.encode("utf-8")


def write_xlsx(headers: list[str], rows: list[list[object]], title: str = "Feuille 1") -> bytes:
    """A one-sheet workbook; text cells stay text, so SIRET and codes keep their leading zeros."""
    return cells.xlsx_bytes(headers, rows, title)


CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
