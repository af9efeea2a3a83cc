"""distribution: registry, outbox, ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:15:28.111389
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outboxentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outboxentry', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unsent', ['sent_at', 'available_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outboxentry_item_id'), ['item_id'], unique=False)

    op.create_table('channeltarget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('channeltarget', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channeltarget_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_channeltarget_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_channeltarget_unit_id'), ['unit_id'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('target_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('operation', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('receipt', sa.JSON(), nullable=True),
    sa.Column('error_class', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'revision', 'target_code', 'operation')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_delivery_state_channel', ['state', 'channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_target_code'), ['target_code'], unique=False)

    op.create_table('deliverylog',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deliverylog', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliverylog_delivery_id'), ['delivery_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('deliverylog', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliverylog_delivery_id'))

    op.drop_table('deliverylog')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_target_code'))
        batch_op.drop_index('ix_delivery_state_channel')
        batch_op.drop_index(batch_op.f('ix_delivery_item_id'))

    op.drop_table('delivery')
    with op.batch_alter_table('channeltarget', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channeltarget_unit_id'))
        batch_op.drop_index(batch_op.f('ix_channeltarget_code'))
        batch_op.drop_index(batch_op.f('ix_channeltarget_channel'))

    op.drop_table('channeltarget')
    with op.batch_alter_table('outboxentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outboxentry_item_id'))
        batch_op.drop_index('ix_outbox_unsent')

    op.drop_table('outboxentry')
