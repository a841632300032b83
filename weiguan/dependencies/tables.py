"""The schema, in SQLAlchemy Core, for MySQL/MariaDB (utf8mb4, InnoDB) and SQLite.

This is the head of the migrations in weiguan/migrations: a change here needs a new
revision there (tests/integration/test_migrations.py compares the two).

Secondary indexes follow the queries: (author, id) for a user's posts and the home
timeline, (user, id) for "newest first" lists of follows and likes. No foreign keys:
writes that touch several tables run in one transaction in the repositories, and
avatar_id <-> file.user_id would otherwise be a cycle.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()

MYSQL_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
                 'mysql_collate': 'utf8mb4_unicode_ci'}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (MySQL DATETIME has no zone), read back as aware UTC."""
    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def _id():
    return sa.Column('id', sa.Integer, primary_key=True, autoincrement=True)


def _ref(name, nullable=False):
    return sa.Column(name, sa.Integer, nullable=nullable)


def _times():
    return [sa.Column('created_at', UTCDateTime, nullable=False, default=utcnow),
            sa.Column('updated_at', UTCDateTime, nullable=False, default=utcnow,
                      onupdate=utcnow)]


def _folded(length):
    """Text compared without case, as MySQL's utf8mb4_unicode_ci does, on SQLite too
    (so 'Alice' and 'alice' are one username on both)."""
    return sa.String(length).with_variant(sa.String(length, collation='NOCASE'), 'sqlite')


class exact_lower(sa.sql.functions.FunctionElement):
    """LOWER(text) compared byte for byte: MySQL's utf8mb4_unicode_ci equates more
    than case ('ｓ' and 's', 'é' and 'e', trailing spaces), SQLite's lower() result
    already compares BINARY. Beside `column = value` (which keeps the unique index
    usable) it rechecks the one row found with the case-folded form exactly."""
    type = sa.String()
    name = 'exact_lower'
    inherit_cache = True


@compiles(exact_lower)
def _exact_lower(element, compiler, **kw):
    return f'lower({compiler.process(element.clauses, **kw)})'


@compiles(exact_lower, 'mysql')
def _exact_lower_mysql(element, compiler, **kw):
    # a binary string: no collation at all (utf8mb4_bin would still pad spaces)
    return f'CAST(LOWER({compiler.process(element.clauses, **kw)}) AS BINARY)'


def _counter(name):
    return sa.Column(name, sa.Integer, nullable=False, default=0, server_default='0')


user = sa.Table(
    'user', metadata, _id(),
    sa.Column('username', _folded(20), nullable=False),
    sa.Column('password', sa.String(128), nullable=False),  # argon2id hash
    sa.Column('mobile', sa.String(16), nullable=True),
    sa.Column('email', _folded(100), nullable=True),
    _ref('avatar_id', nullable=True),
    sa.Column('intro', sa.String(200), nullable=False, default='', server_default=''),
    # Set by `user disable` (admin CLI): no login, every session ended.
    sa.Column('disabled', sa.Boolean, nullable=False, default=False,
              server_default=sa.false()),
    *_times(),
    sa.Index('uq_user_username', 'username', unique=True),
    sa.Index('uq_user_mobile', 'mobile', unique=True),
    sa.Index('uq_user_email', 'email', unique=True),
    **MYSQL_OPTIONS,
)

user_follow = sa.Table(
    'user_follow', metadata, _id(),
    _ref('user_id'),        # the follower
    _ref('following_id'),   # the one followed
    *_times(),
    sa.Index('uq_user_follow', 'user_id', 'following_id', unique=True),
    sa.Index('ix_user_follow_user', 'user_id', 'id'),
    sa.Index('ix_user_follow_following', 'following_id', 'id'),
    **MYSQL_OPTIONS,
)

file = sa.Table(
    'file', metadata, _id(),
    _ref('user_id'),
    sa.Column('region', sa.String(16), nullable=False, default='local'),
    sa.Column('bucket', sa.String(32), nullable=False),
    sa.Column('path', sa.String(255), nullable=False),
    sa.Column('meta', sa.JSON, nullable=False),
    *_times(),
    sa.Index('uq_file_location', 'region', 'bucket', 'path', unique=True),
    sa.Index('ix_file_user', 'user_id', 'id'),
    **MYSQL_OPTIONS,
)

post = sa.Table(
    'post', metadata, _id(),
    _ref('user_id'),
    sa.Column('type', sa.String(10), nullable=False),
    sa.Column('text', sa.String(1000), nullable=False, default=''),
    sa.Column('image_ids', sa.JSON, nullable=False),
    _ref('video_id', nullable=True),
    *_times(),
    sa.Index('ix_post_user', 'user_id', 'id'),
    **MYSQL_OPTIONS,
)

post_like = sa.Table(
    'post_like', metadata, _id(),
    _ref('user_id'),
    _ref('post_id'),
    *_times(),
    sa.Index('uq_post_like', 'user_id', 'post_id', unique=True),
    sa.Index('ix_post_like_user', 'user_id', 'id'),
    sa.Index('ix_post_like_post', 'post_id'),
    **MYSQL_OPTIONS,
)

user_stat = sa.Table(
    'user_stat', metadata, _id(),
    _ref('user_id'),
    _counter('post_count'),
    _counter('like_count'),
    _counter('following_count'),
    _counter('follower_count'),
    *_times(),
    sa.Index('uq_user_stat_user', 'user_id', unique=True),
    **MYSQL_OPTIONS,
)

post_stat = sa.Table(
    'post_stat', metadata, _id(),
    _ref('post_id'),
    _counter('like_count'),
    *_times(),
    sa.Index('uq_post_stat_post', 'post_id', unique=True),
    **MYSQL_OPTIONS,
)
