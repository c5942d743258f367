"""zone commune keys folded for every script

`ZoneCommune.key` is a commune's name folded by `survey.directory.normalize_name`, which
structures' communes are matched on. The fold used to drop every letter left non-ASCII after
removing accents: « Œ » vanished (« Œuilly » keyed « uilly »), a name in another script keyed
« », and a typographic apostrophe glued words (« d’Ardèche » keyed « dardeche », while
« d'Ardèche » keyed « d ardeche »). Keys are computed again with the fold of this revision
(copied below, not imported); two communes of one zone folding alike keep one row (the first
by name).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 03:45:00.000000

"""

import unicodedata
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_zone_commune = sa.table(
    "zonecommune", sa.column("zone_id", sa.Integer), sa.column("key"), sa.column("commune")
)


def _rekey(fold: Callable[[str], str]) -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_zone_commune.c.zone_id, _zone_commune.c.commune).order_by(
            _zone_commune.c.zone_id, _zone_commune.c.commune
        )
    ).all()
    kept: dict[tuple[int, str], str] = {}
    for zone_id, commune in rows:
        kept.setdefault((zone_id, fold(commune)), commune)
    conn.execute(sa.delete(_zone_commune))
    if kept:
        conn.execute(
            sa.insert(_zone_commune),
            [{"zone_id": z, "key": k, "commune": c} for (z, k), c in kept.items()],
        )


_SPELT_OUT = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ẞ": "ss"})


def _every_script_fold(name: str) -> str:
    """`survey.directory.normalize_name` as of this revision, frozen here: a later change of
    the live fold comes with its own migration instead of changing what this one did."""
    text = unicodedata.normalize("NFKD", name.translate(_SPELT_OUT))
    folded = "".join(
        " " if unicodedata.category(ch)[0] in "PSZC" else ch
        for ch in text
        if not unicodedata.combining(ch)
    )
    return " ".join(folded.casefold().split())


def upgrade() -> None:
    _rekey(_every_script_fold)


def _ascii_fold(name: str) -> str:
    """The fold before this revision."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    for ch in "-'’.,()/":
        text = text.replace(ch, " ")
    return " ".join(text.split())


def downgrade() -> None:
    _rekey(_ascii_fold)
