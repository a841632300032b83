"""Races over HTTP: a crowd of identical requests at once, as a double-tapping app or a
retrying client sends them. Exactly one wins (`ok`), every other one is told
`duplicate`, one row is left in the table, and the counters say one.

Each test prints its figures (`pytest -s -k race tests/e2e/test_races.py`), which
docs/reliability.md (Races and faults) quotes. Concurrent likes/follows of *different* users
(counters under contention, opposite lock orders, likes racing a delete) are in
tests/integration/test_counters_concurrency.py.
"""
import asyncio
import collections
import time

import pytest
import sqlalchemy as sa

from weiguan.dependencies import tables

from tests.support.faults import figure
from tests.support import PASSWORD, call, logged_in, provided

CROWD = 100

pytestmark = pytest.mark.usefixtures('fast_passwords')


async def race(name: str, requests) -> tuple[list[dict], collections.Counter]:
    """Send all `requests` (coroutines returning envelopes) at once; print the figures."""
    started = time.monotonic()
    bodies = await asyncio.gather(*requests)
    seconds = time.monotonic() - started
    codes = collections.Counter(f"{b['status']} {b['code']}" for b in bodies)
    figure(f'race {name}', requests=len(bodies), **{k.replace(' ', '_'): v
                                                     for k, v in sorted(codes.items())},
           seconds=f'{seconds:.2f}')
    return bodies, codes


async def count(container, table: sa.Table, *where) -> int:
    [database] = await provided(container, 'database')
    async with database.connection() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        return (await conn.execute(query.where(*where) if where else query)).scalar()


async def stat_of(container, table: sa.Table, key: str, key_value: int) -> dict:
    [database] = await provided(container, 'database')
    async with database.connection() as conn:
        rows = (await conn.execute(table.select().where(table.c[key] == key_value)))
        return [dict(row) for row in rows.mappings()]


async def test_race_register_one_username(make_client, container):
    clients = [make_client() for _ in range(CROWD)]  # a cookie jar each
    bodies, codes = await race('register', (
        call(c, 'POST', '/account/register', username='racer', password=PASSWORD)
        for c in clients))
    assert codes == {'200 ok': 1, '200 duplicate': CROWD - 1}, bodies
    winner = next(b['data']['user'] for b in bodies if b['code'] == 'ok')
    user = tables.user
    rows = await count(container, user, user.c.username == 'racer')
    figure('race register rows', user_rows=rows,
           user_stat_rows=await count(container, tables.user_stat))
    assert rows == 1 and await count(container, user) == 1
    [stat] = await stat_of(container, tables.user_stat, 'user_id', winner['id'])
    assert (stat['post_count'], stat['like_count'], stat['following_count'],
            stat['follower_count']) == (0, 0, 0, 0)
    # only the winner's client is logged in, as the winner
    infos = [(await call(c, 'GET', '/account/info'))['data']['user'] for c in clients]
    assert [u['id'] for u in infos if u] == [winner['id']]


async def test_race_follow_one_user(make_client, container):
    fan_client, fan = await logged_in(make_client, 'fan')
    _, star = await logged_in(make_client, 'star')
    bodies, codes = await race('follow', (
        call(fan_client, 'POST', '/user/follow', followingId=star['id'])
        for _ in range(CROWD)))
    assert codes == {'200 ok': 1, '200 duplicate': CROWD - 1}, bodies
    follow = tables.user_follow
    rows = await count(container, follow, follow.c.user_id == fan['id'],
                       follow.c.following_id == star['id'])
    [fan_stat] = await stat_of(container, tables.user_stat, 'user_id', fan['id'])
    [star_stat] = await stat_of(container, tables.user_stat, 'user_id', star['id'])
    figure('race follow rows', user_follow_rows=rows,
           following_count=fan_stat['following_count'],
           follower_count=star_stat['follower_count'])
    assert rows == 1 and await count(container, follow) == 1
    assert (fan_stat['following_count'], fan_stat['follower_count']) == (1, 0)
    assert (star_stat['following_count'], star_stat['follower_count']) == (0, 1)
    # as the users see it
    body = await call(fan_client, 'GET', '/user/info', id=star['id'])
    assert body['data']['user']['isFollowing'] is True
    assert body['data']['user']['stat']['followerCount'] == 1
    body = await call(fan_client, 'GET', '/user/followings')
    assert [u['id'] for u in body['data']['users']] == [star['id']]
    assert body['data']['total'] == 1


async def test_race_like_one_post(make_client, container):
    author_client, _ = await logged_in(make_client, 'author')
    fan_client, fan = await logged_in(make_client, 'fan')
    body = await call(author_client, 'POST', '/post/publish', type='text', text='hi')
    post_id = body['data']['post']['id']
    bodies, codes = await race('like', (
        call(fan_client, 'POST', '/post/like', postId=post_id) for _ in range(CROWD)))
    assert codes == {'200 ok': 1, '200 duplicate': CROWD - 1}, bodies
    like = tables.post_like
    rows = await count(container, like, like.c.post_id == post_id)
    [post_stat] = await stat_of(container, tables.post_stat, 'post_id', post_id)
    [fan_stat] = await stat_of(container, tables.user_stat, 'user_id', fan['id'])
    figure('race like rows', post_like_rows=rows, post_like_count=post_stat['like_count'],
           user_like_count=fan_stat['like_count'])
    assert rows == 1 and await count(container, like) == 1
    assert post_stat['like_count'] == 1 and fan_stat['like_count'] == 1
    # as the users see it
    post = (await call(fan_client, 'GET', '/post/info', id=post_id))['data']['post']
    assert post['stat']['likeCount'] == 1 and post['isLiked'] is True
    body = await call(fan_client, 'GET', '/post/liked')
    assert [p['id'] for p in body['data']['posts']] == [post_id]
