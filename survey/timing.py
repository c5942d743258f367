"""How long the questionnaire takes: one honest promise, the same in the invitation e-mail,
the page and the help text.

Measured in a real browser (tests/test_browser_review.py): a returning respondent confirms
last year's partners in three actions, reading a line per partner (about 5 s each); a partner
described from scratch takes about a minute (the partner, formal or informal, what is built
together, and a glance at the optional details).
"""

from __future__ import annotations

from math import ceil

READ_SECONDS_PER_PARTNER = 5
BASE_SECONDS = 30
MINUTES_PER_NEW_PARTNER = 1


def _minutes(n: int) -> str:
    return f"{n} minute{'s' if n > 1 else ''}"


def minutes_if_unchanged(carried_partners: int) -> int:
    """Minutes a returning respondent needs when nothing has changed since last year."""
    return max(1, ceil((BASE_SECONDS + READ_SECONDS_PER_PARTNER * carried_partners) / 60))


def promise(carried_partners: int) -> str:
    """The time promise in French, e.g. « environ 2 minutes si rien n'a changé depuis l'an
    dernier, une minute de plus par partenaire qui a changé »."""
    if carried_partners > 0:
        return (
            f"environ {_minutes(minutes_if_unchanged(carried_partners))} si rien n'a changé "
            f"depuis l'an dernier, une minute de plus par partenaire qui a changé"
        )
    return f"environ {_minutes(MINUTES_PER_NEW_PARTNER)} par partenaire que vous décrivez"
