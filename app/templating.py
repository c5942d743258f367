"""Jinja2 environment shared by every page."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.formhtml import REVIEW_CHOICES, card_anchor, choice_inputs, hidden_answers, review_row
from survey import vocab

TEMPLATES_DIR = Path(__file__).parent / "templates"

_MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def date_fr(value: date | datetime | None) -> str:
    """« 24 novembre 2026 »; "1er" for the first of the month, as French writes it."""
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day}\u00a0{_MONTHS[value.month - 1]} {value.year}"


def number_fr(value: int | float | None) -> str:
    """Thousands separated by a narrow no-break space, decimal comma."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["date_fr"] = date_fr
templates.env.filters["number_fr"] = number_fr
templates.env.globals["vocab"] = vocab
templates.env.globals["choice_inputs"] = choice_inputs
templates.env.globals["hidden_answers"] = hidden_answers
templates.env.globals["review_row"] = review_row
templates.env.globals["card_anchor"] = card_anchor
templates.env.globals["REVIEW_CHOICES"] = REVIEW_CHOICES
