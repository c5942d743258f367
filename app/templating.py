"""Jinja2 environment shared by every page."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.formhtml import REVIEW_CHOICES, card_anchor, choice_inputs, hidden_answers, review_row
from reports import compare, privacy
from survey import french, vocab

TEMPLATES_DIR = Path(__file__).parent / "templates"


def number_fr(value: int | float | None) -> str:
    """survey.french.number, and nothing at all for a missing value."""
    return "" if value is None else french.number(value)


def people_fr(value: int | None, exact: bool = False) -> str:
    """A count of professionals on a page: exact for a coordinator (`exact`, they already see
    the names), « < 3 » for 1 or 2 to anyone else (reports.privacy)."""
    if value is None:
        return ""
    return (
        number_fr(value)
        if exact
        else str(privacy.small_count(value)).replace(privacy.SMALL_DATA, privacy.SMALL)
    )


def date_fr(value: date | str | None) -> str:
    """« 1er janvier 2024 »; also from the ISO text a figure carries once stored as JSON
    (the coordination figures of a frozen year)."""
    return french.date_fr(date.fromisoformat(value) if isinstance(value, str) else value)


def shown_change(before: float | None, after: float | None, digits: int = 3) -> str:
    """The change between two figures printed with `digits` decimals, as a reader computes
    it from the two printed values (« 0,318 → 0,378 : +0,060 », where the unrounded
    difference printed +0,061); « n. d. » when either is missing."""
    if before is None or after is None:
        return "n.\u00a0d."
    change = float(f"{after:.{digits}f}") - float(f"{before:.{digits}f}")
    return f"{change:+.{digits}f}".replace(".", ",")


def year_option(campaign: object) -> str:
    """A campaign in a year list: « 2026 (en cours) », « 2031 (en préparation) », « 2025 »: a
    year still in preparation has no answers, and read as a year like the others its map
    looked like a network gone."""
    status = getattr(campaign, "status", "")
    suffix = {"open": " (en cours)", "draft": " (en préparation)"}.get(status, "")
    return f"{getattr(campaign, 'year', '')}{suffix}"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["people_fr"] = people_fr
templates.env.tests["small_count"] = privacy.is_small
templates.env.filters["date_fr"] = date_fr
templates.env.filters["number_fr"] = number_fr
templates.env.filters["year_option"] = year_option
templates.env.globals["points_text"] = compare.points_text
templates.env.globals["shown_change"] = shown_change
templates.env.globals["vocab"] = vocab
templates.env.globals["choice_inputs"] = choice_inputs
templates.env.globals["hidden_answers"] = hidden_answers
templates.env.globals["review_row"] = review_row
templates.env.globals["card_anchor"] = card_anchor
templates.env.globals["REVIEW_CHOICES"] = REVIEW_CHOICES
