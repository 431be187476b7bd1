"""exact records per (client, division); the previous administration retired, not deleted

Revision ID: a16f458d0c49
Revises: a7c3e1d90b42
Create Date: 2026-12-01 04:26:16.960385

Existing rows get the division their dossier's sync state was last synced from (the rows in the
table are that division's: an overwrite marked the earlier division's rows deleted, and the
next run brought the new division's in). Rows marked deleted *before* the first run of the
current division's latest stretch, in a dossier that was synced from another division in
between, were the earlier division's (retired by that first run, not deleted in Exact): they
become the previous administration (``retired_at``, ``deleted_at`` cleared) of the last other
division synced. Rows of an account without a sync state keep NULL: unknown, never shown as
current, purgeable.
"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'a16f458d0c49'
down_revision = 'a7c3e1d90b42'  # chained after (A)'s; was 62cf2264fbca
branch_labels = None
depends_on = None

# The division each dossier's rows were synced from.
CURRENT_DIVISION = sa.text(
    """
    UPDATE exact_records SET division_code = (
        SELECT s.division_code FROM sync_states s WHERE s.account_id = exact_records.account_id
    )
    """
)
# Rows "deleted" before the current division's stretch began: the earlier division's.
PREVIOUS_ADMINISTRATION = sa.text(
    """
    UPDATE exact_records SET
        retired_at = deleted_at,
        deleted_at = NULL,
        division_code = (
            SELECT o.division_code FROM sync_runs o
            JOIN sync_states s ON s.account_id = o.account_id
            WHERE o.account_id = exact_records.account_id
              AND o.division_code <> s.division_code
            ORDER BY o.started_at DESC, o.id DESC
            LIMIT 1
        )
    WHERE deleted_at IS NOT NULL
      AND synced_at < (
        SELECT MIN(r.started_at) FROM sync_runs r
        JOIN sync_states s ON s.account_id = r.account_id
        WHERE r.account_id = exact_records.account_id
          AND r.division_code = s.division_code
          AND r.started_at > (
            SELECT MAX(o.started_at) FROM sync_runs o
            WHERE o.account_id = r.account_id AND o.division_code <> s.division_code
          )
      )
    """
)
# Downgrade: one row per (account, entity, Exact ID) again; retired rows read as deleted.
DROP_DUPLICATES = sa.text(
    """
    DELETE FROM exact_records WHERE retired_at IS NOT NULL AND EXISTS (
        SELECT 1 FROM exact_records e2
        WHERE e2.account_id = exact_records.account_id
          AND e2.entity = exact_records.entity
          AND e2.exact_id = exact_records.exact_id
          AND e2.id <> exact_records.id
          AND (e2.retired_at IS NULL OR e2.id > exact_records.id)
    )
    """
)
RETIRED_AS_DELETED = sa.text(
    "UPDATE exact_records SET deleted_at = retired_at"
    " WHERE retired_at IS NOT NULL AND deleted_at IS NULL"
)


def upgrade():
    with op.batch_alter_table('exact_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('division_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retired_at', portal.models.base.UTCDateTime(timezone=True), nullable=True))

    op.execute(CURRENT_DIVISION)
    op.execute(PREVIOUS_ADMINISTRATION)

    with op.batch_alter_table('exact_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_exact_records_account_id'), type_='unique')
        batch_op.create_unique_constraint('uq_exact_records_account_division_entity_exact_id', ['account_id', 'division_code', 'entity', 'exact_id'])


def downgrade():
    op.execute(DROP_DUPLICATES)
    op.execute(RETIRED_AS_DELETED)
    with op.batch_alter_table('exact_records', schema=None) as batch_op:
        batch_op.drop_constraint('uq_exact_records_account_division_entity_exact_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_exact_records_account_id'), ['account_id', 'entity', 'exact_id'])
        batch_op.drop_column('retired_at')
        batch_op.drop_column('division_code')
