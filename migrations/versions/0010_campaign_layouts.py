"""campaign layouts

The map positions last computed for each campaign (`campaignlayout`), so a process that
starts (a restart, another worker) updates them rather than laying the map out in full.
Nothing to copy: the table fills as maps are shown.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "campaignlayout",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("anchor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("ties", sa.Text(), nullable=False),
        sa.Column("positions", sa.Text(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "anchor"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("campaignlayout")
