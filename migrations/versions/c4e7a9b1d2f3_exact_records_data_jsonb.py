"""exact_records.data as JSONB on PostgreSQL

Revision ID: c4e7a9b1d2f3
Revises: 7aa2a1d0384f
Create Date: 2026-12-01 06:50:00.000000

The sync's upsert compares a stored row with the one Exact sends inside the database (ON
CONFLICT ... DO UPDATE ... WHERE changed); JSONB compares by value and is stored parsed. On
SQLite the column stays JSON text: nothing to do.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e7a9b1d2f3"
down_revision = "7aa2a1d0384f"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # JSONB refuses U+0000 in strings (JSON took it): dropped, as the sync now does
        op.execute(
            "ALTER TABLE exact_records ALTER COLUMN data TYPE JSONB USING "
            r"regexp_replace(data::text, '(?<!\\)((?:\\\\)*)\\u0000', '\1', 'g')::jsonb"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE exact_records ALTER COLUMN data TYPE JSON USING data::json")
