"""governance: registry lifecycle, obligations, rescans, sealed credentials

Credentials already stored in plain `config` stay readable; `ck keys rotate` seals them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 16:39:52.950043
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('governancestate',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('registrychange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filing', sa.JSON(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['user.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['channeltarget.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('registrychange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrychange_decision'), ['decision'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrychange_target_id'), ['target_id'], unique=False)

    op.create_table('itemobligation',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['set_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('item_id')
    )
    op.create_table('rescanfinding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['resolved_by'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'revision', 'rule', 'field', 'start', 'text')
    )
    with op.batch_alter_table('rescanfinding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rescanfinding_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rescanfinding_status'), ['status'], unique=False)

    with op.batch_alter_table('channeltarget', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responsible_person', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('filing_no', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('filing_approver', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('filing_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('secrets', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('health', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='ok'))
        batch_op.add_column(sa.Column('health_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('health_since', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('channeltarget', schema=None) as batch_op:
        batch_op.drop_column('health_since')
        batch_op.drop_column('health_reason')
        batch_op.drop_column('health')
        batch_op.drop_column('secrets')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('filing_date')
        batch_op.drop_column('filing_approver')
        batch_op.drop_column('filing_no')
        batch_op.drop_column('responsible_person')

    with op.batch_alter_table('rescanfinding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rescanfinding_status'))
        batch_op.drop_index(batch_op.f('ix_rescanfinding_item_id'))

    op.drop_table('rescanfinding')
    op.drop_table('itemobligation')
    with op.batch_alter_table('registrychange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrychange_target_id'))
        batch_op.drop_index(batch_op.f('ix_registrychange_decision'))

    op.drop_table('registrychange')
    op.drop_table('governancestate')
