"""stored texts as messages: the template and parameters next to sync errors and blocked reasons

Revision ID: b3d8f1e2c7a4
Revises: a16f458d0c49
Create Date: 2026-12-01 04:50:00

A worker stores its texts in its own language; the JSON next to each (English source string
and parameters) lets the pages translate them for the reader. Existing rows keep NULL and show
their text as stored.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d8f1e2c7a4'
down_revision = 'a16f458d0c49'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_message', sa.JSON(), nullable=True))
    with op.batch_alter_table('sync_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_error_message', sa.JSON(), nullable=True))
    with op.batch_alter_table('exact_division_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_reason_message', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('exact_division_links', schema=None) as batch_op:
        batch_op.drop_column('blocked_reason_message')
    with op.batch_alter_table('sync_states', schema=None) as batch_op:
        batch_op.drop_column('last_error_message')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('error_message')
