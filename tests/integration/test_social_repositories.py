"""The follow, post and like repositories on the real database (SQLite in the
embedded pass, MariaDB in the other): rows, pages and the counters written in the
same transaction."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.support.fakes_social import IMAGE_META
from tests.support import provided
from weiguan.dependencies import tables
from weiguan.entities.errors import Duplicate


@pytest.fixture
async def repos(container):
    names = ('database', 'users', 'files', 'follows', 'posts', 'likes')
    return SimpleNamespace(**dict(zip(names, await provided(container, *names))))


async def _users(repos, *names):
    return [(await repos.users.create(name, 'hash'))['id'] for name in names]


async def _user_stat(repos, user_id) -> dict | None:
    async with repos.database.connection() as conn:
        row = (await conn.execute(tables.user_stat.select().where(
            tables.user_stat.c.user_id == user_id))).mappings().first()
    return row and dict(row)


async def _counts(repos, user_id) -> tuple:
    stat = await _user_stat(repos, user_id)
    return (stat['post_count'], stat['like_count'], stat['following_count'],
            stat['follower_count'])


async def _rows(repos, table) -> int:
    async with repos.database.connection() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def test_follow_and_unfollow_keep_both_counters(repos):
    alice, bob = await _users(repos, 'alice', 'bob')
    assert await repos.follows.follow(alice, bob) is True
    assert await _counts(repos, alice) == (0, 0, 1, 0)
    assert await _counts(repos, bob) == (0, 0, 0, 1)
    with pytest.raises(Duplicate):
        await repos.follows.follow(alice, bob)
    assert await _counts(repos, bob) == (0, 0, 0, 1)
    assert await repos.follows.unfollow(alice, bob) is True
    assert await repos.follows.unfollow(alice, bob) is False
    assert await _counts(repos, alice) == (0, 0, 0, 0)
    assert await _counts(repos, bob) == (0, 0, 0, 0)


async def test_following_a_missing_user_writes_nothing(repos):
    [alice] = await _users(repos, 'alice')
    assert await repos.follows.follow(alice, alice + 1000) is False
    assert await _rows(repos, tables.user_follow) == 0
    assert await _counts(repos, alice) == (0, 0, 0, 0)


async def test_follow_pages_are_newest_first(repos):
    alice, bob, carol, dave = await _users(repos, 'alice', 'bob', 'carol', 'dave')
    for target in (carol, bob, dave):
        await repos.follows.follow(alice, target)
    await repos.follows.follow(bob, dave)
    assert await repos.follows.followings(alice, 2, 0) == [dave, bob]
    assert await repos.follows.followings(alice, 2, 2) == [carol]
    assert await repos.follows.followers(dave, 20, 0) == [bob, alice]
    assert await repos.follows.following_among(alice, [bob, carol, alice]) == {bob, carol}


async def test_a_missing_stat_row_is_created_on_first_need(repos):
    alice, bob = await _users(repos, 'alice', 'bob')
    async with repos.database.transaction() as conn:
        await conn.execute(tables.user_stat.delete())
    await repos.follows.follow(alice, bob)
    assert await _counts(repos, alice) == (0, 0, 1, 0)
    assert await _counts(repos, bob) == (0, 0, 0, 1)
    async with repos.database.transaction() as conn:
        await conn.execute(tables.user_stat.delete())
    await repos.follows.unfollow(alice, bob)  # nothing to take from: no row below zero
    assert await _user_stat(repos, alice) is None


async def test_publish_and_delete_keep_stats_and_remove_likes(repos):
    alice, bob, carol = await _users(repos, 'alice', 'bob', 'carol')
    image = await repos.files.create(alice, 'local', 'b', 'a.jpg', IMAGE_META)
    post = await repos.posts.create(alice, 'image', 'caption', [image['id']], None)
    assert (post['user_id'], post['type'], post['text'], post['image_ids'],
            post['video_id']) == (alice, 'image', 'caption', [image['id']], None)
    assert post['stat']['like_count'] == 0 and post['stat']['post_id'] == post['id']
    kept = await repos.posts.create(alice, 'text', 'kept', [], None)
    assert await _counts(repos, alice) == (2, 0, 0, 0)
    for liker in (bob, carol):
        assert await repos.likes.like(liker, post['id']) is True
    await repos.likes.like(bob, kept['id'])
    assert (await repos.posts.get_with_stat(post['id']))['stat']['like_count'] == 2
    assert await repos.posts.delete(post['id'], bob) is False  # not bob's
    assert await repos.posts.delete(post['id'], alice) is True
    assert await repos.posts.get_with_stat(post['id']) is None
    assert await repos.posts.delete(post['id'], alice) is False
    assert await _counts(repos, alice) == (1, 0, 0, 0)
    assert await _counts(repos, bob) == (0, 1, 0, 0)
    assert await _counts(repos, carol) == (0, 0, 0, 0)
    assert await _rows(repos, tables.post_like) == 1
    assert await _rows(repos, tables.post_stat) == 1


async def test_like_and_unlike_count_once(repos):
    alice, bob = await _users(repos, 'alice', 'bob')
    post = await repos.posts.create(alice, 'text', 'hi', [], None)
    assert await repos.likes.like(bob, post['id'] + 1000) is False
    assert await repos.likes.like(bob, post['id']) is True
    with pytest.raises(Duplicate):
        await repos.likes.like(bob, post['id'])
    assert await repos.likes.liked_among(bob, [post['id'], post['id'] + 1]) == {post['id']}
    assert (await repos.posts.get_with_stat(post['id']))['stat']['like_count'] == 1
    assert await repos.likes.unlike(bob, post['id']) is True
    assert await repos.likes.unlike(bob, post['id']) is False
    assert (await repos.posts.get_with_stat(post['id']))['stat']['like_count'] == 0
    assert await _counts(repos, bob) == (0, 0, 0, 0)


async def test_published_and_liked_pages_are_newest_first(repos):
    alice, bob = await _users(repos, 'alice', 'bob')
    posts = [await repos.posts.create(alice, 'text', f'p{i}', [], None) for i in range(3)]
    for post in (posts[1], posts[0], posts[2]):
        await repos.likes.like(bob, post['id'])
    assert [p['text'] for p in await repos.posts.published(alice, 2, 0)] == ['p2', 'p1']
    assert [p['text'] for p in await repos.posts.published(alice, 2, 2)] == ['p0']
    liked = await repos.posts.liked(bob, 20, 0)
    assert [p['text'] for p in liked] == ['p2', 'p0', 'p1']
    assert [p['stat']['like_count'] for p in liked] == [1, 1, 1]


async def test_timeline_windows_and_total(repos):
    alice, bob, carol, dave = await _users(repos, 'alice', 'bob', 'carol', 'dave')
    await repos.follows.follow(alice, bob)
    await repos.follows.follow(alice, carol)
    authors = (bob, dave, carol, alice, bob, carol, dave, bob)
    ids = [(await repos.posts.create(a, 'text', 't', [], None))['id'] for a in authors]
    visible = [i for i, a in zip(ids, authors) if a in (bob, carol)][::-1]  # newest first

    async def page(**kwargs):
        return [p['id'] for p in await repos.posts.timeline(alice, **kwargs)]
    assert await page(limit=3) == visible[:3]
    assert await page(limit=3, before_id=visible[2]) == visible[3:]
    assert await page(limit=2, after_id=visible[4]) == visible[2:4]
    assert await page(limit=10, after_id=visible[1]) == visible[:1]
    assert await page(limit=10, after_id=visible[0]) == []
    assert await repos.posts.timeline_total(alice) == 5
    assert await repos.posts.timeline_total(dave) == 0


async def test_a_users_whole_sets_of_follows_and_likes_are_listed_up_to_a_limit(container):
    """What the cached flags (cached_social.py) are filled from."""
    users, follows, posts, likes = await provided(
        container, 'sql_users', 'sql_follows', 'sql_posts', 'sql_likes')
    alice, bob, carol = [(await users.create(n, 'hash'))['id'] for n in ('alice', 'bob', 'carol')]
    await follows.follow(alice, bob)
    await follows.follow(alice, carol)
    await follows.follow(bob, carol)
    ids = [(await posts.create(bob, 'text', f'p{n}', [], None))['id'] for n in range(3)]
    for post_id in ids:
        await likes.like(alice, post_id)
    assert sorted(await follows.following_ids(alice, 10)) == sorted([bob, carol])
    assert len(await follows.following_ids(alice, 1)) == 1
    assert await follows.following_ids(carol, 10) == []
    assert sorted(await likes.liked_ids(alice, 10)) == ids
    assert set(await likes.liked_ids(alice, 2)) < set(ids)
    assert await likes.liked_ids(bob, 10) == []
