"""app/deps.py: the small steps the route modules share."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from app.deps import or_404, workspace_url
from app.security import Scope
from survey.accounts import User
from survey.models import Territory


def test_workspace_url():
    scope = Scope(user=User(email="a@example.org"), territory=Territory(code="23"), can_write=True)
    assert workspace_url(scope) == "/t/23"
    assert workspace_url(scope, "repertoire") == "/t/23/repertoire"
    assert workspace_url(scope, "campagnes", "2026") == "/t/23/campagnes/2026"


def test_or_404_keeps_a_row_and_refuses_none_in_french():
    row = Territory(code="23")
    assert or_404(row, "absent") is row
    with pytest.raises(HTTPException) as exc:
        or_404(None, "Cette structure n'existe pas dans ce territoire.")
    assert exc.value.status_code == 404
    assert exc.value.detail == "Cette structure n'existe pas dans ce territoire."
