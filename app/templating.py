"""Jinja2 environment shared by every page."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.formhtml import REVIEW_CHOICES, card_anchor, choice_inputs, hidden_answers, review_row
from survey import french, vocab

TEMPLATES_DIR = Path(__file__).parent / "templates"


def number_fr(value: int | float | None) -> str:
    """survey.french.number, and nothing at all for a missing value."""
    return "" if value is None else french.number(value)


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["date_fr"] = french.date_fr
templates.env.filters["number_fr"] = number_fr
templates.env.globals["vocab"] = vocab
templates.env.globals["choice_inputs"] = choice_inputs
templates.env.globals["hidden_answers"] = hidden_answers
templates.env.globals["review_row"] = review_row
templates.env.globals["card_anchor"] = card_anchor
templates.env.globals["REVIEW_CHOICES"] = REVIEW_CHOICES
