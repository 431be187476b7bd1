"""one client per division and connection: unique (connection_id, division_code)

Revision ID: a7c3e1d90b42
Revises: 62cf2264fbca
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e1d90b42'
down_revision = '62cf2264fbca'
branch_labels = None
depends_on = None


def upgrade():
    # Existing doubles (one division linked to two clients of one connection) would make the
    # constraint fail: keep the earliest link of each, the later ones lose their link.
    op.execute(
        "DELETE FROM exact_division_links WHERE id NOT IN ("
        "SELECT MIN(id) FROM exact_division_links GROUP BY connection_id, division_code)"
    )
    with op.batch_alter_table('exact_division_links', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            'uq_exact_division_links_connection_division', ['connection_id', 'division_code']
        )


def downgrade():
    with op.batch_alter_table('exact_division_links', schema=None) as batch_op:
        batch_op.drop_constraint('uq_exact_division_links_connection_division', type_='unique')
