"""CSV and XLSX reading/writing as French offices exchange them (no database)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from survey.tabular import (
    MAX_BYTES,
    TabularError,
    read_table,
    write_csv,
    write_xlsx,
)

HEADERS = ["nom", "type", "commune", "siret", "missions", "services"]
ROWS = [
    ["CCAS de Guéret", "ccas-cias", "Guéret", "", "Aide sociale légale ; domiciliation", "Accueil"],
    ["Œuvre « Cœur » d'Aubusson", "association", "Aubusson", "00012345600019", "", "A | B"],
]


def test_plain_csv_round_trip():
    data = write_csv(HEADERS, ROWS)
    assert data.startswith(b"nom,type")
    table = read_table(data, "export.csv")
    assert table.headers == HEADERS
    assert [list(r.values()) for r in table.rows] == ROWS
    assert table.line_numbers == [2, 3]


def test_french_excel_csv_has_bom_semicolons_and_crlf_and_reads_back():
    data = write_csv(HEADERS, ROWS, excel_fr=True)
    assert data.startswith(b"\xef\xbb\xbfnom;type;commune")
    assert b"\r\n" in data
    table = read_table(data, "export.csv")
    assert table.rows[0]["nom"] == "CCAS de Guéret"
    assert table.rows[1]["siret"] == "00012345600019"  # leading zeros kept
    assert table.rows[0]["missions"] == "Aide sociale légale ; domiciliation"


def test_cp1252_semicolon_csv_as_french_excel_writes_it():
    text = "Nom;Type;Commune\r\nCCAS de Guéret;CCAS / CIAS;Guéret\r\nŒuvre d'Évaux;association;Évaux-les-Bains\r\n"
    table = read_table(text.encode("cp1252"), "liste.csv")
    assert table.headers == ["nom", "type", "commune"]
    assert table.rows[0] == {"nom": "CCAS de Guéret", "type": "CCAS / CIAS", "commune": "Guéret"}
    assert table.rows[1]["nom"] == "Œuvre d'Évaux"


def test_headers_are_normalised_and_aliases_apply():
    data = b"Nom ;E-mail;Structure;Fonction\nA;a@x.fr;CAF;CESF\n"
    table = read_table(data, "x.csv", aliases={"mail": "email"})
    assert table.headers == ["nom", "email", "structure", "fonction"]
    table = read_table(b"Nom;Mail\nA;a@x.fr\n", "x.csv", aliases={"mail": "email"})
    assert table.rows[0]["email"] == "a@x.fr"


def test_blank_lines_skipped_and_line_numbers_follow_the_file():
    data = b"nom;type\n\nA;caf\n;\nB;caf\n"
    table = read_table(data, "x.csv")
    assert [r["nom"] for r in table.rows] == ["A", "B"]
    assert table.line_numbers == [3, 5]


def test_formula_cells_are_neutralised_on_export_and_restored_on_import():
    data = write_csv(["nom", "missions"], [["=HYPERLINK(1)", "- accueil"]], excel_fr=True)
    assert b"'=HYPERLINK(1)" in data
    table = read_table(data, "x.csv")
    assert table.rows[0] == {"nom": "=HYPERLINK(1)", "missions": "- accueil"}


def test_xlsx_round_trip_keeps_text_and_leading_zeros():
    data = write_xlsx(HEADERS, ROWS, title="Répertoire")
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.worksheets[0].title == "Répertoire"
    assert workbook.worksheets[0]["A1"].font.bold
    table = read_table(data, "repertoire.xlsx")
    assert [list(r.values()) for r in table.rows] == ROWS


def test_xlsx_written_by_excel_with_numbers_reads_as_text():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nom", "SIRET", "Fonction"])
    sheet.append(["A", 12345678900012, None])
    sheet.append([None, None, None])
    sheet.append(["B", 3.0, "CESF"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "liste.xlsx")
    assert table.rows == [
        {"nom": "A", "siret": "12345678900012", "fonction": ""},
        {"nom": "B", "siret": "3", "fonction": "CESF"},
    ]
    assert table.line_numbers == [2, 4]


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "x.csv", "vide"),
        (b"PK\x03\x04garbage", "x.xlsx", "illisible"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "x.xls", ".xls"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "pas un fichier texte"),
        (b'nom;type\n"A;caf\n', "x.csv", "guillemets"),
        (b" \n \n", "x.csv", "aucune ligne"),
        (b"x" * (MAX_BYTES + 1), "x.csv", "trop volumineux"),
    ],
)
def test_unreadable_files_give_a_french_message(data, filename, message):
    with pytest.raises(TabularError) as exc:
        read_table(data, filename)
    assert message in exc.value.message


def test_utf16_excel_unicode_text_is_read():
    data = "nom\ttype\nCCAS de Guéret\tccas-cias\n".encode("utf-16")
    table = read_table(data, "x.txt")
    assert table.rows == [{"nom": "CCAS de Guéret", "type": "ccas-cias"}]


def test_control_characters_do_not_break_xlsx():
    data = write_xlsx(["nom"], [["A\x07B"]])
    assert read_table(data, "x.xlsx").rows == [{"nom": "AB"}]
