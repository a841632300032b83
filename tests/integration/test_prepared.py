"""Prepared statements (dependencies/prepared.py) through Database, on the real
database: on MariaDB they run on the driver's own pools (asyncmy's, or aiomysql's on
the pass with WG_TEST_MYSQL_DRIVER=aiomysql), on SQLite through the engine, and all
must give the same rows, the same types and the same transaction rules."""
import os
from datetime import timezone

import pytest
import sqlalchemy as sa

from tests.support import provided
from tests.support.servers import MYSQL_HOST
from weiguan.dependencies import tables
from weiguan.dependencies.prepared import Prepared
from weiguan.dependencies.repositories.base import IDS, NOW, param
from weiguan.entities.errors import Duplicate

user, user_stat, file = tables.user, tables.user_stat, tables.file
avatar = file.alias('avatar')
PROFILES = Prepared(
    sa.select(user.c.id, user.c.username, user.c.created_at,
              *[c.label(f'stat_{c.name}') for c in user_stat.c],
              *[c.label(f'avatar__{c.name}') for c in avatar.c])
    .select_from(user.outerjoin(user_stat, user_stat.c.user_id == user.c.id)
                 .outerjoin(avatar, avatar.c.id == user.c.avatar_id))
    .where(user.c.id.in_(IDS)).order_by(user.c.id),
    nest=('stat_', 'avatar__'))
NAMED = Prepared(sa.select(user.c.username).where(user.c.username == sa.bindparam(
    'name', type_=user.c.username.type)))
PAGE = Prepared(sa.select(user.c.id).order_by(user.c.id)
                .limit(param('limit')).offset(param('offset')))
RENAME = Prepared(user.update().where(user.c.id == param('user_key'))
                  .values(username=sa.bindparam('name', type_=sa.String),
                          updated_at=NOW))


@pytest.fixture
async def db(container):
    [database] = await provided(container, 'database')
    return database


@pytest.fixture
async def people(container):
    users, files = await provided(container, 'users', 'files')
    alice = await users.create('alice', 'hash')
    bob = await users.create('bob', 'hash')
    picture = await files.create(alice['id'], 'local', 'avatars', 'a.png',
                                 {'type': 'image/png', 'size': 1})
    await users.update(alice['id'], avatar_id=picture['id'])
    return alice['id'], bob['id'], picture['id']


@pytest.mark.skipif(not MYSQL_HOST, reason='SQLite has one driver')
async def test_the_pass_runs_on_the_driver_it_names(db):
    driver = os.environ.get('WG_TEST_MYSQL_DRIVER', 'asyncmy')
    assert db.engine.dialect.driver == driver
    for pool in (db.read_pool, db.write_pool):
        assert type(pool).__module__.split('.')[0] == driver


async def test_rows_are_shaped_with_joined_rows_nested(db, people):
    alice, bob, picture = people
    rows = await db.fetch_all(PROFILES, ids=[alice, bob])
    assert [row['username'] for row in rows] == ['alice', 'bob']
    assert rows[0]['avatar']['id'] == picture
    assert rows[0]['avatar']['meta'] == {'type': 'image/png', 'size': 1}  # JSON decoded
    assert rows[1]['avatar'] is None  # the outer join found no file
    assert rows[0]['stat']['user_id'] == alice and rows[0]['stat']['post_count'] == 0
    assert 'stat_id' not in rows[0] and 'avatar__id' not in rows[0]


async def test_datetimes_come_back_aware_utc(db, people):
    rows = await db.fetch_all(PROFILES, ids=[people[0]])
    for value in (rows[0]['created_at'], rows[0]['stat']['created_at'],
                  rows[0]['avatar']['updated_at']):
        assert value.tzinfo is not None and value.utcoffset() == timezone.utc.utcoffset(None)


async def test_an_empty_in_list_matches_nothing(db, people):
    assert await db.fetch_all(PROFILES, ids=[]) == []


async def test_parameters_are_escaped_not_spliced(db, people):
    assert await db.fetch_one(NAMED, name="alice' OR '1'='1") is None
    assert await db.fetch_one(NAMED, name='bob') == {'username': 'bob'}


async def test_limit_and_offset_are_parameters(db, people):
    alice, bob, _ = people
    assert [r['id'] for r in await db.fetch_all(PAGE, limit=1, offset=1)] == [bob]
    assert [r['id'] for r in await db.fetch_all(PAGE, limit=5, offset=0)] == [alice, bob]


async def test_prepared_transaction_commits_and_counts_rows(db, people):
    alice = people[0]
    async with db.prepared_transaction() as statements:
        assert await statements.run(RENAME, user_key=alice, name='alicia',
                                    now=tables.utcnow()) == 1
        assert await statements.run(RENAME, user_key=10**9, name='nobody',
                                    now=tables.utcnow()) == 0
    assert await db.fetch_one(NAMED, name='alicia') == {'username': 'alicia'}


async def test_prepared_transaction_rolls_back_on_any_error(db, people):
    alice = people[0]
    with pytest.raises(RuntimeError):
        async with db.prepared_transaction() as statements:
            await statements.run(RENAME, user_key=alice, name='renamed', now=tables.utcnow())
            raise RuntimeError('the caller gave up')
    assert await db.fetch_one(NAMED, name='renamed') is None
    assert await db.fetch_one(NAMED, name='alice') == {'username': 'alice'}


async def test_a_duplicate_key_rolls_back_and_leaves_the_pool_usable(db, people):
    alice, bob, _ = people
    for _ in range(3):  # more often than a pool would hide one broken connection
        with pytest.raises(Duplicate):
            async with db.prepared_transaction() as statements:
                await statements.run(RENAME, user_key=alice, name='first', now=tables.utcnow())
                await statements.run(RENAME, user_key=bob, name='first', now=tables.utcnow())
    assert await db.fetch_one(NAMED, name='first') is None  # the first rename too
    async with db.prepared_transaction() as statements:
        assert await statements.run(RENAME, user_key=bob, name='bobby', now=tables.utcnow()) == 1
    assert await db.fetch_one(NAMED, name='bobby') == {'username': 'bobby'}
