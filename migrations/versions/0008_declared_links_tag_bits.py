"""declared links' tag bits

`declaredlink.tag_bits`: the tags the graph counts (practices, thématiques), one bit each
(`survey.tagbits`), so the open campaign's graph is one GROUP BY over the links instead of a
join with their tag rows. Filled here from the tag rows of every link; frozen campaigns are
not touched (their graph reads the frozen tags, `snapshottag`).

The column is added and dropped in place (never a batch rebuild): SQLite cannot rebuild
declaredlink while linktag's rows point at it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:03:45.064203

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The application's layout, not a copy: the bits filled here are read by the code that runs
# on this database, and the layout only ever grows at its end (survey.tagbits.FROZEN_LAYOUT).
from survey.tagbits import LAYOUT

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fill() -> sa.Update:
    """tag_bits of every link from its tag rows, in one statement (SQLite and PostgreSQL)."""
    link = sa.table("declaredlink", sa.column("id"), sa.column("tag_bits"))
    tag = sa.table("linktag", sa.column("link_id"), sa.column("kind"), sa.column("code"))
    bit = sa.case(
        *(
            ((tag.c.kind == kind) & (tag.c.code == code), sa.literal(1 << i, sa.BigInteger))
            for i, (kind, code) in enumerate(LAYOUT)
        ),
        else_=sa.literal(0, sa.BigInteger),
    )
    counted = tag.c.kind.in_(sorted({kind for kind, _ in LAYOUT}))
    # (link, kind, code) is the tag's primary key: the sum of distinct bits is their OR.
    bits = (
        sa.select(sa.cast(sa.func.sum(bit), sa.BigInteger))
        .where(tag.c.link_id == link.c.id, counted)
        .scalar_subquery()
    )
    tagged = sa.select(tag.c.link_id).where(counted)
    return link.update().where(link.c.id.in_(tagged)).values(tag_bits=bits)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("declaredlink", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("tag_bits", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
    op.execute(_fill())


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("ALTER TABLE declaredlink DROP COLUMN tag_bits")
