"""Posting ledger: where a waiting document comes from (partition, asset) and since when it waits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 08:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('posting_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partition_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('asset', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('posting_ledger', schema=None) as batch_op:
        batch_op.drop_column('waiting_since')
        batch_op.drop_column('asset')
        batch_op.drop_column('partition_key')
