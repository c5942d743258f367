"""indexes on the foreign keys of declared links that had none

Deleting a declared link (every re-save of a response replaces its links) made PostgreSQL
look for links carried from it (ON DELETE SET NULL on carried_from_id) with a scan of the
whole declaredlink table, once per deleted link: found by bench/load.py (160 million rows
read for 1,200 re-saved responses). partner_service_id is re-pointed by merges, body_id
checked when an instance is deleted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 19:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_declaredlink_carried_from_id", "declaredlink", "carried_from_id"),
    ("ix_declaredlink_partner_service_id", "declaredlink", "partner_service_id"),
    ("ix_responsebody_body_id", "responsebody", "body_id"),
]


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
