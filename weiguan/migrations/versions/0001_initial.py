"""The schema as it was before migrations (what `model create_tables` made).

Revision ID: 0001
Revises:
Create Date: 2026-12-01

Frozen here, apart from weiguan/dependencies/tables.py (which moves on with later
revisions): the adoption of a database made before migrations existed compares it
with `schema()`.
"""
from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

MYSQL_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
                 'mysql_collate': 'utf8mb4_unicode_ci'}


def _folded(length):
    return sa.String(length).with_variant(sa.String(length, collation='NOCASE'), 'sqlite')


def _table(metadata, name, *items):
    return sa.Table(
        name, metadata, sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        *items,
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime, nullable=False),
        **MYSQL_OPTIONS)


def _ref(name, nullable=False):
    return sa.Column(name, sa.Integer, nullable=nullable)


def _counter(name):
    return sa.Column(name, sa.Integer, nullable=False, server_default='0')


def schema() -> sa.MetaData:
    metadata = sa.MetaData()
    _table(metadata, 'user',
           sa.Column('username', _folded(20), nullable=False),
           sa.Column('password', sa.String(128), nullable=False),
           sa.Column('mobile', sa.String(16), nullable=True),
           sa.Column('email', _folded(100), nullable=True),
           _ref('avatar_id', nullable=True),
           sa.Column('intro', sa.String(200), nullable=False, server_default=''),
           sa.Index('uq_user_username', 'username', unique=True),
           sa.Index('uq_user_mobile', 'mobile', unique=True),
           sa.Index('uq_user_email', 'email', unique=True))
    _table(metadata, 'user_follow', _ref('user_id'), _ref('following_id'),
           sa.Index('uq_user_follow', 'user_id', 'following_id', unique=True),
           sa.Index('ix_user_follow_user', 'user_id', 'id'),
           sa.Index('ix_user_follow_following', 'following_id', 'id'))
    _table(metadata, 'file', _ref('user_id'),
           sa.Column('region', sa.String(16), nullable=False),
           sa.Column('bucket', sa.String(32), nullable=False),
           sa.Column('path', sa.String(255), nullable=False),
           sa.Column('meta', sa.JSON, nullable=False),
           sa.Index('uq_file_location', 'region', 'bucket', 'path', unique=True),
           sa.Index('ix_file_user', 'user_id', 'id'))
    _table(metadata, 'post', _ref('user_id'),
           sa.Column('type', sa.String(10), nullable=False),
           sa.Column('text', sa.String(1000), nullable=False),
           sa.Column('image_ids', sa.JSON, nullable=False),
           _ref('video_id', nullable=True),
           sa.Index('ix_post_user', 'user_id', 'id'))
    _table(metadata, 'post_like', _ref('user_id'), _ref('post_id'),
           sa.Index('uq_post_like', 'user_id', 'post_id', unique=True),
           sa.Index('ix_post_like_user', 'user_id', 'id'),
           sa.Index('ix_post_like_post', 'post_id'))
    _table(metadata, 'user_stat', _ref('user_id'), _counter('post_count'),
           _counter('like_count'), _counter('following_count'), _counter('follower_count'),
           sa.Index('uq_user_stat_user', 'user_id', unique=True))
    _table(metadata, 'post_stat', _ref('post_id'), _counter('like_count'),
           sa.Index('uq_post_stat_post', 'post_id', unique=True))
    return metadata


def upgrade() -> None:
    schema().create_all(op.get_bind())


def downgrade() -> None:
    schema().drop_all(op.get_bind())
