"""Every territory's headline figures side by side, from the frozen campaigns alone.

What `carte figures --all` prints and `/admin/chiffres` shows: one row per territory, its
latest closed campaign (or its campaign of a given year), read from the snapshots
(`reports.snapshot.latest_closed`): no graph is built, so a renamed or merged structure, an
erased professional or a late answer never changes a closed year's row.

These figures leave the coordination (a national reader, a file), so the « < 3 » rule of
`reports.privacy` applies to every row: invited and respondent counts of 1 or 2 read « < 3 »
and the response rate built on them « — » (docs/rgpd.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session

from reports import privacy
from reports.snapshot import TerritoryFigures, latest_closed
from survey import cells, french
from survey.db import table_of
from survey.models import Campaign, Territory
from survey.snapshots import CampaignSnapshot


@dataclass(frozen=True)
class Column:
    key: str  # a key of TerritoryFigures.row(), or "figee_le"
    header: str  # French, the CSV header and the table's
    kind: str  # text, int, people, rate, decimal, date


COLUMNS: tuple[Column, ...] = (
    Column("territoire", "Territoire", "text"),
    Column("nom", "Nom", "text"),
    Column("annee", "Année", "text"),
    Column("structures", "Structures", "int"),
    Column("liens", "Liens", "int"),
    Column("densite", "Densité", "decimal"),
    Column("composantes", "Composantes", "int"),
    Column("invites", "Personnes invitées", "people"),
    Column("repondants", "Répondants", "people"),
    Column("taux_reponse", "Taux de réponse", "rate"),
    Column("reciprocite", "Réciprocité", "rate"),
    Column("part_formelle", "Part de liens formels", "rate"),
    Column("part_fragile", "Part de liens fragiles", "rate"),
    Column("figee_le", "Figée le", "date"),
)
HEADERS = [c.header for c in COLUMNS]
NOT_AVAILABLE = "n.\u00a0d."  # not computable (no respondent, no link): not a withheld rate


def _public_row(tf: TerritoryFigures) -> dict[str, object]:
    row = tf.row()
    invited, responded = row["invites"], row["repondants"]
    return row | {
        "invites": privacy.small_count(invited),
        "repondants": privacy.small_count(responded),
        "taux_reponse": privacy.small_rate(row["taux_reponse"], invited, responded),
        "figee_le": tf.frozen_at.date().isoformat(),
    }


def rows(session: Session, year: int | None = None) -> list[dict[str, object]]:
    """One row per territory with a frozen campaign (of `year`, or its latest), by code;
    counts of people under the « < 3 » rule."""
    return [_public_row(tf) for tf in latest_closed(session, year)]


def territory_rows(session: Session, code: str) -> list[dict[str, object]]:
    """Every frozen campaign of one territory, oldest first (same columns)."""
    snap, camp, terr = table_of(CampaignSnapshot), table_of(Campaign), table_of(Territory)
    q = (
        select(terr.c.code, terr.c.name, camp.c.year, snap.c.frozen_at, snap.c.summary)
        .select_from(
            snap.join(camp, camp.c.id == snap.c.campaign_id).join(
                terr, terr.c.id == camp.c.territory_id
            )
        )
        .where(terr.c.code == code)
        .order_by(camp.c.year)
    )
    return [
        _public_row(TerritoryFigures(c, n, y, at, json.loads(f)))
        for c, n, y, at, f in session.execute(q).all()
    ]


def frozen_years(session: Session) -> list[int]:
    """Years with at least one frozen campaign, latest first (the year selector)."""
    snap, camp = table_of(CampaignSnapshot), table_of(Campaign)
    q = (
        select(camp.c.year)
        .select_from(camp.join(snap, snap.c.campaign_id == camp.c.id))
        .distinct()
        .order_by(camp.c.year.desc())
    )
    return list(session.scalars(q).all())


# --- output --------------------------------------------------------------------------------


def csv_text(data: Sequence[dict[str, object]]) -> str:
    """The rows as the graph exports write CSV (reports.exports): UTF-8 with BOM, `;`, CRLF,
    decimal comma; rates as raw shares (0,734), « < 3 » and « — » as text."""
    return cells.csv_text(
        HEADERS,
        ([r[c.key] for c in COLUMNS] for r in data),
        delimiter=";",
        lineterminator="\r\n",
        bom=True,
        decimal_comma=True,
    )


def _na(fmt: Callable[[float], str]) -> Callable[[object], str]:
    """`fmt` for a number, « n. d. » for a figure that could not be computed, and text
    (« < 3 », « — ») as it is."""

    def show(v: object) -> str:
        if v is None:
            return NOT_AVAILABLE
        if isinstance(v, str):  # « < 3 » (data form) or « — »: the no-break form on screen
            return v.replace(privacy.SMALL_DATA, privacy.SMALL)
        if isinstance(v, int | float):
            return fmt(v)
        return str(v)

    return show


_FORMATS: dict[str, Callable[[object], str]] = {
    "text": lambda v: "" if v is None else str(v),
    "int": _na(lambda x: french.integer(int(x))),
    "people": _na(lambda x: french.integer(int(x))),
    "rate": _na(lambda x: french.percent(x, 1)),
    "decimal": _na(lambda x: french.decimal(x, 4)),
    "date": lambda v: french.date_fr(date.fromisoformat(v)) if isinstance(v, str) and v else "",
}


def formatted(row: dict[str, object]) -> list[str]:
    """One row as printed on a page or in a terminal: French numbers, « < 3 », « — »."""
    return [_FORMATS[c.kind](row[c.key]) for c in COLUMNS]


def text_table(data: Sequence[dict[str, object]]) -> str:
    """An aligned plain-text table (numbers right-aligned), one line per territory."""
    body = [formatted(r) for r in data]
    widths = [max([len(h), *(len(line[i]) for line in body)]) for i, h in enumerate(HEADERS)]
    left = [c.kind in ("text", "date") for c in COLUMNS]

    def line(cells_: list[str]) -> str:
        return "  ".join(
            s.ljust(w) if is_left else s.rjust(w)
            for s, w, is_left in zip(cells_, widths, left, strict=True)
        ).rstrip()

    out = [line(HEADERS), line(["-" * w for w in widths])]
    out.extend(line(b) for b in body)
    return "\n".join(out) + "\n"


def unfrozen_closed(session: Session) -> int:
    """Closed campaigns without a snapshot (written closed by a script, or before the
    migration ran): they are missing from the rows until `carte db upgrade` freezes them."""
    snap, camp = table_of(CampaignSnapshot), table_of(Campaign)
    q = select(camp.c.id).where(
        camp.c.status == "closed", camp.c.id.not_in(select(snap.c.campaign_id))
    )
    return len(session.scalars(q).all())
