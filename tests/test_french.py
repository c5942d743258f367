"""survey.french: the one place numbers, dates and sentences are written the French way, for the
pages (app.templating's filters), the e-mails (survey.mailing, survey.accounts) and the report."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from survey import french as t

NBSP, NNBSP, MINUS = "\u00a0", "\u202f", "\u2212"
ROOT = Path(__file__).resolve().parent.parent


def test_sentences():
    assert t.text("Bonjour : ça va ? Oui ; « bien » !") == (
        f"Bonjour{NBSP}: ça va{NNBSP}? Oui{NNBSP}; «{NBSP}bien{NBSP}»{NNBSP}!"
    )
    assert t.text(t.text("Bonjour : oui ?")) == t.text("Bonjour : oui ?")  # idempotent
    assert t.text("a &amp; b") == "a &amp; b"  # an XML entity keeps its semicolon
    assert t.text("voir https://example.org") == "voir https://example.org"
    assert t.text("? en tête") == "? en tête"
    assert t.quote("CAF") == f"«{NBSP}CAF{NBSP}»"


def test_numbers():
    assert t.integer(12345) == f"12{NNBSP}345"
    assert t.integer(-3) == f"{MINUS}3"
    assert t.decimal(1234.56) == f"1{NNBSP}234,6"
    assert t.decimal(-0.04) == "0,0"  # no sign on what rounds to zero
    assert t.number(None) == "—"
    assert t.number(3.0) == "3" and t.number(1234) == f"1{NNBSP}234"
    assert t.number(2.25, 2) == "2,25"
    assert t.percent(0.4256) == f"43{NNBSP}%"
    assert t.percent(None) == "—"
    assert t.signed(-3) == f"{MINUS}3" and t.signed(4) == "+4" and t.signed(0) == "0"
    assert t.signed(0.04, 1) == "0,0" and t.signed(None) == "—"
    assert t.points(0.0772) == f"+8{NBSP}pts" and t.points(-0.01) == f"{MINUS}1{NBSP}pt"
    assert t.points(0.001) == "stable" and t.points(None) == "—"
    assert t.plural(1, "lien") == f"1{NBSP}lien" and t.plural(2, "lien") == f"2{NBSP}liens"
    assert t.plural(0, "structure") == f"0{NBSP}structure"
    assert t.plural(3, "travail", "travaux") == f"3{NBSP}travaux"


def test_dates():
    assert t.date_fr(date(2026, 3, 1)) == f"1er{NBSP}mars 2026"
    assert t.date_fr(date(2026, 11, 24)) == f"24{NBSP}novembre 2026"
    assert t.date_fr(datetime(2026, 8, 2, 23, 59)) == f"2{NBSP}août 2026"
    assert t.date_fr(None) == ""
    # The plain-text e-mails write a plain space.
    assert t.date_fr(date(2026, 12, 1), space=" ") == "1er décembre 2026"
    assert [t.date_fr(date(2026, m, 15)).split(NBSP)[1][:-5] for m in range(1, 13)] == [
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ]  # fmt: skip


def test_page_filters():
    from app.templating import date_fr, number_fr, templates

    assert templates.env.filters["date_fr"] is date_fr
    # The same words as survey.french, also from the ISO text of a stored figure.
    assert date_fr(date(2024, 1, 1)) == t.date_fr(date(2024, 1, 1)) == date_fr("2024-01-01")
    assert templates.env.filters["number_fr"] is number_fr
    assert number_fr(None) == ""  # a missing figure shows nothing on a page
    assert number_fr(0) == "0" and number_fr(12345) == f"12{NNBSP}345"
    assert number_fr(1234.56) == f"1{NNBSP}234,6" and number_fr(7.0) == "7"
    page = templates.env.from_string("{{ d|date_fr }} · {{ n|number_fr }} · {{ none|date_fr }}")
    assert page.render(d=date(2026, 3, 1), n=2500, none=None) == (
        f"1er{NBSP}mars 2026 · 2{NNBSP}500 · "
    )


def test_email_closing_date():
    from survey.mailing import placeholder_values
    from survey.models import Campaign

    def closing(closes_on: date | None) -> str:
        campaign = Campaign(territory_id=1, year=2026, closes_on=closes_on)
        return placeholder_values(campaign, "Jeanne", "https://x", 3)["date_cloture"]

    assert closing(date(2026, 3, 1)) == "1er mars 2026"
    assert closing(date(2026, 11, 24)) == "24 novembre 2026"
    assert closing(None) == "la fin de la campagne"


def test_month_names_are_written_once():
    sources = [p for d in ("app", "survey", "reports") for p in (ROOT / d).rglob("*.py")]
    holding = sorted(
        str(p.relative_to(ROOT)) for p in sources if '"décembre"' in p.read_text("utf-8")
    )
    assert holding == ["survey/french.py"]
