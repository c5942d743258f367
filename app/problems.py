"""The JSON shape of every API error: a French `detail`, and one message per field in
`errors` (`field`, `message`), as survey.messages.pydantic_problems writes them."""

from __future__ import annotations

from pydantic import BaseModel


class Problems(BaseModel):
    detail: str
    errors: list[dict[str, str]] = []
