"""export to Exact: export runs, items' export state

Revision ID: 7aa2a1d0384f
Revises: 1ac63abaf5f6
Create Date: 2026-12-01 06:08:04.286902

Each export job of a dossier is a run; an item keeps our reference (in the entry's Description
in Exact), when its entry was posted, Exact's document, attachment and entry, and why it failed.
"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '7aa2a1d0384f'
down_revision = '1ac63abaf5f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('division_code', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('running', 'succeeded', 'failed', 'waiting', 'stopped', 'interrupted', name='export_run_status', native_enum=False, length=16), nullable=False),
    sa.Column('started_at', portal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', portal.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('items_exported', sa.Integer(), nullable=False),
    sa.Column('items_failed', sa.Integer(), nullable=False),
    sa.Column('api_calls', sa.Integer(), nullable=False),
    sa.Column('waiting_until', portal.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('error_message', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_export_runs_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_runs'))
    )
    with op.batch_alter_table('export_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_runs_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('book_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('export_requested_at', portal.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('export_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('export_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('export_reference', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('export_posted_at', portal.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('exact_document_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('exact_attachment_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('exact_entry_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('exact_entry_number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('exported_at', portal.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('exported_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seen_in_exact_at', portal.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('export_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('export_error_message', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('export_error_field', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('export_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_book_items_export_reference'), ['export_reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_book_items_export_run_id'), ['export_run_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_book_items_exported_by_id_users'), 'users', ['exported_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_book_items_export_requested_by_id_users'), 'users', ['export_requested_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_book_items_export_run_id_export_runs'), 'export_runs', ['export_run_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('book_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_book_items_export_run_id_export_runs'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_book_items_export_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_book_items_exported_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_book_items_export_run_id'))
        batch_op.drop_index(batch_op.f('ix_book_items_export_reference'))
        batch_op.drop_column('export_attempts')
        batch_op.drop_column('export_error_field')
        batch_op.drop_column('export_error_message')
        batch_op.drop_column('export_error')
        batch_op.drop_column('seen_in_exact_at')
        batch_op.drop_column('exported_by_id')
        batch_op.drop_column('exported_at')
        batch_op.drop_column('exact_entry_number')
        batch_op.drop_column('exact_entry_id')
        batch_op.drop_column('exact_attachment_id')
        batch_op.drop_column('exact_document_id')
        batch_op.drop_column('export_posted_at')
        batch_op.drop_column('export_reference')
        batch_op.drop_column('export_run_id')
        batch_op.drop_column('export_requested_by_id')
        batch_op.drop_column('export_requested_at')

    with op.batch_alter_table('export_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_runs_account_id'))

    op.drop_table('export_runs')
