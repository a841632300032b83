"""UserRepository on the real database: SQLite on the embedded pass, MariaDB on the
other (the same tests)."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from weiguan.dependencies import tables
from weiguan.entities.errors import Duplicate


@pytest.fixture
async def users(container):
    return await container.users()


async def test_create_returns_the_row_and_a_zeroed_stat(users):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    user = await users.create('alice', 'hash-of-alice')
    assert user['id'] > 0
    assert user['username'] == 'alice' and user['password'] == 'hash-of-alice'
    assert user['mobile'] is None and user['email'] is None and user['avatar_id'] is None
    assert user['intro'] == ''
    assert user['created_at'].tzinfo is not None
    assert user['created_at'] >= before
    assert user['updated_at'] >= user['created_at']
    stat = (await users.get_many_with_stats([user['id']]))[user['id']]['stat']
    assert stat['user_id'] == user['id']
    assert (stat['post_count'], stat['like_count'], stat['following_count'],
            stat['follower_count']) == (0, 0, 0, 0)


async def test_stores_non_ascii_text(users):
    user = await users.create('wei', 'h')
    updated = await users.update(user['id'], intro='微观 🙂 intro')
    assert updated['intro'] == '微观 🙂 intro'
    assert (await users.get(user['id']))['intro'] == '微观 🙂 intro'


async def test_duplicate_username_names_the_field_and_leaves_one_row(users, container):
    first = await users.create('alice', 'h1')
    with pytest.raises(Duplicate) as caught:
        await users.create('alice', 'h2')
    assert caught.value.field == 'username'
    assert await users.find_by('username', 'alice') == first
    database = await container.database()
    async with database.connection() as conn:
        stats = (await conn.execute(sa.select(sa.func.count()).select_from(
            tables.user_stat))).scalar()
    assert stats == 1  # the failed create left no orphan stat row


async def test_usernames_differing_only_in_case_clash(users):
    await users.create('alice', 'h1')
    with pytest.raises(Duplicate) as caught:
        await users.create('ALICE', 'h2')
    assert caught.value.field == 'username'


@pytest.mark.parametrize('field, value', [
    ('mobile', '13800000000'),
    ('email', 'username@example.com'),   # the value mentions another field's name
    ('username', 'email_mobile'),
])
async def test_update_to_a_taken_value_names_the_field(users, field, value):
    alice = await users.create('alice', 'h1')
    bob = await users.create('bob', 'h2')
    await users.update(alice['id'], **{field: value})
    with pytest.raises(Duplicate) as caught:
        await users.update(bob['id'], **{field: value})
    assert caught.value.field == field
    assert (await users.get(bob['id']))[field] == ('bob' if field == 'username' else None)


async def test_clash_on_one_field_of_several_names_that_field(users):
    alice = await users.create('alice', 'h1')
    bob = await users.create('bob', 'h2')
    await users.update(alice['id'], mobile='13800000000')
    with pytest.raises(Duplicate) as caught:
        await users.update(bob['id'], username='bobby', mobile='13800000000',
                           email='bob@example.com')
    assert caught.value.field == 'mobile'
    row = await users.get(bob['id'])
    assert (row['username'], row['mobile'], row['email']) == ('bob', None, None)


async def test_many_users_may_have_no_mobile_or_email(users):
    ids = [(await users.create(name, 'h'))['id'] for name in ('alice', 'bob', 'carol')]
    for user_id in ids:  # NULLs never clash in a unique index
        assert (await users.update(user_id, mobile=None, email=None))['mobile'] is None
    assert len(await users.get_many(ids)) == 3


async def test_update_changes_only_the_given_fields(users):
    alice = await users.create('alice', 'h1')
    updated = await users.update(alice['id'], intro='hi', mobile='13800000000',
                                 email='a@example.com', avatar_id=7, password='h2')
    assert updated['id'] == alice['id'] and updated['username'] == 'alice'
    assert (updated['intro'], updated['mobile'], updated['email'], updated['avatar_id'],
            updated['password']) == ('hi', '13800000000', 'a@example.com', 7, 'h2')
    assert updated['created_at'] == alice['created_at']
    assert updated['updated_at'] >= alice['updated_at']
    assert await users.get(alice['id']) == updated


async def test_update_of_unknown_id_is_none(users):
    assert await users.update(424242, intro='x') is None


async def test_find_by(users):
    alice = await users.create('alice', 'h1')
    await users.update(alice['id'], mobile='13800000000', email='a@example.com')
    assert (await users.find_by('username', 'alice'))['id'] == alice['id']
    assert (await users.find_by('mobile', '13800000000'))['id'] == alice['id']
    assert (await users.find_by('email', 'a@example.com'))['id'] == alice['id']
    assert await users.find_by('username', 'bob') is None
    assert await users.find_by('mobile', '13800000001') is None


async def test_get_many_with_stats(users, container):
    alice = await users.create('alice', 'h')
    bob = await users.create('bob', 'h')
    carol = await users.create('carol', 'h')
    found = await users.get_many_with_stats([alice['id'], carol['id'], None, 987654])
    assert set(found) == {alice['id'], carol['id']}
    assert found[carol['id']]['username'] == 'carol'
    assert found[carol['id']]['stat']['user_id'] == carol['id']
    assert 'stat_id' not in found[carol['id']]
    assert await users.get_many_with_stats([]) == {}

    database = await container.database()
    async with database.transaction() as conn:  # a user whose stat row is missing
        await conn.execute(sa.delete(tables.user_stat).where(
            tables.user_stat.c.user_id == bob['id']))
    assert (await users.get_many_with_stats([bob['id']]))[bob['id']]['stat'] is None


async def test_get_and_get_many(users):
    alice = await users.create('alice', 'h')
    bob = await users.create('bob', 'h')
    assert (await users.get(alice['id']))['username'] == 'alice'
    assert await users.get(987654) is None
    many = await users.get_many([alice['id'], bob['id'], alice['id'], None])
    assert {k: v['username'] for k, v in many.items()} == {alice['id']: 'alice',
                                                          bob['id']: 'bob'}


LOOK_ALIKES = ['ｓessuser', 'séssuser', 'sessuser ', 'sessuser\0']


async def test_find_by_username_matches_the_case_folded_form_exactly(users):
    """On MariaDB utf8mb4_unicode_ci equates these with 'sessuser'; SQLite does not.
    The repository answers the same on both: only a case difference matches."""
    user = await users.create('sessuser', 'h')
    assert (await users.find_by('username', 'SessUser'))['id'] == user['id']
    for name in LOOK_ALIKES:
        assert await users.find_by('username', name) is None, repr(name)
