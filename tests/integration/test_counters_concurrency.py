"""Counters stay exact under concurrent writes, on the real database: the unique
indexes decide duplicates, the counter updates are atomic and run in the transaction
of the change they count. (A crowd of identical requests over HTTP, one winner and
the others `duplicate`: tests/e2e/test_races.py.)"""
import asyncio
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.support import provided
from weiguan.dependencies import tables
from weiguan.entities.errors import Duplicate

CROWD = 100


@pytest.fixture
async def app(container):
    names = ('database', 'users', 'posts', 'likes', 'post_service', 'user_service')
    return SimpleNamespace(**dict(zip(names, await provided(container, *names))))


async def _crowd(app, size: int, prefix: str = 'user') -> list[int]:
    return [(await app.users.create(f'{prefix}{i}', 'not a hash'))['id']
            for i in range(size)]


async def _scalar(app, query):
    async with app.database.connection() as conn:
        return (await conn.execute(query)).scalar()


async def _user_counts(app, column: str) -> dict[int, int]:
    stat = tables.user_stat
    async with app.database.connection() as conn:
        rows = await conn.execute(sa.select(stat.c.user_id, stat.c[column]))
        return dict(rows.all())


async def test_a_crowd_liking_one_post_at_once_counts_every_like(app):
    author, *likers = await _crowd(app, CROWD + 1)
    post = await app.posts.create(author, 'text', 'popular', [], None)
    results = await asyncio.gather(*(app.post_service.like(u, post['id']) for u in likers),
                                   return_exceptions=True)
    assert results == [None] * CROWD
    assert (await app.posts.get_with_stat(post['id']))['stat']['like_count'] == CROWD
    like_counts = await _user_counts(app, 'like_count')
    assert [like_counts[u] for u in likers] == [1] * CROWD
    assert await _scalar(app, sa.select(sa.func.count()).select_from(tables.post_like)) \
        == CROWD


async def test_concurrent_follows_both_ways_count_exactly(app):
    star, *fans = await _crowd(app, CROWD + 1)
    # every fan follows the star while the star follows every fan back: opposite
    # lock orders if the two stat rows were not always changed in id order
    calls = [app.user_service.follow(fan, star) for fan in fans]
    calls += [app.user_service.follow(star, fan) for fan in fans]
    calls += [app.user_service.follow(fans[0], star)] * 5  # identical follows
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert results[:2 * CROWD] == [None] * (2 * CROWD)
    assert all(isinstance(r, Duplicate) for r in results[2 * CROWD:]), results[2 * CROWD:]
    followers = await _user_counts(app, 'follower_count')
    followings = await _user_counts(app, 'following_count')
    assert (followers[star], followings[star]) == (CROWD, CROWD)
    assert {followers[f] for f in fans} == {1} and {followings[f] for f in fans} == {1}


async def test_likes_racing_a_delete_leave_no_orphans_and_exact_counts(app):
    author, *likers = await _crowd(app, CROWD // 2 + 1)
    post = await app.posts.create(author, 'text', 'doomed', [], None)
    other = await app.posts.create(author, 'text', 'kept', [], None)
    for liker in likers[::2]:
        await app.likes.like(liker, other['id'])
    # repository calls go straight to their transactions: the delete lands amid the
    # likes, each of which either commits before it (and is uncounted by it) or
    # finds no post
    calls = [app.likes.like(u, post['id']) for u in likers]
    calls.insert(len(calls) // 4, app.posts.delete(post['id'], author))
    results = await asyncio.gather(*calls)
    assert results.pop(len(calls) // 4) is True
    assert set(results) <= {True, False}
    like = tables.post_like
    assert await _scalar(app, sa.select(sa.func.count()).where(
        like.c.post_id == post['id'])) == 0
    assert await _scalar(app, sa.select(sa.func.count()).where(
        tables.post_stat.c.post_id == post['id'])) == 0
    like_counts = await _user_counts(app, 'like_count')
    async with app.database.connection() as conn:
        actual = dict((await conn.execute(sa.select(like.c.user_id, sa.func.count())
                                          .group_by(like.c.user_id))).all())
    assert {u: like_counts[u] for u in likers} == {u: actual.get(u, 0) for u in likers}
    assert (await _user_counts(app, 'post_count'))[author] == 1
