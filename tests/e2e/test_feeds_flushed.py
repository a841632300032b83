"""The feeds lost under load: while authors publish and readers scroll their home
timelines, Redis is flushed again and again (on the embedded default, the
in-process feeds are emptied). No answer is a 5xx, a reader whose session went
with the flush logs in again, and once the jobs have run every reader's timeline
is what the SQL pull answers: the feeds were rebuilt from the database."""
import asyncio

import pytest

from tests.support import PASSWORD, call, logged_in, provided
from tests.support.feeds import flush_feeds

pytestmark = pytest.mark.usefixtures('fast_passwords')

AUTHORS, READERS, ROUNDS, FLUSHES = 3, 4, 12, 6


async def _as(client, name: str, method: str, path: str, statuses: list, **params):
    """One call; logged in again (as often as needed) when a flush took the session."""
    for _ in range(FLUSHES + 2):
        body = await call(client, method, path, **params)
        statuses.append(body['status'])
        if body['status'] != 401:
            return body
        login = await call(client, 'POST', '/account/login', username=name,
                           password=PASSWORD)
        statuses.append(login['status'])
    raise AssertionError(f'{name} could not stay logged in')


async def test_flushing_the_feeds_under_load_rebuilds_them_without_errors(server,
                                                                          make_client):
    authors = [await logged_in(make_client, f'author{i}') for i in range(AUTHORS)]
    readers = [await logged_in(make_client, f'reader{i}') for i in range(READERS)]
    for client, _ in readers:
        for _, author in authors:
            body = await call(client, 'POST', '/user/follow', followingId=author['id'])
            assert body['code'] == 'ok'
    feed_store, posts, jobs = await provided(server.container, 'feed_store', 'posts',
                                             'job_queue')
    statuses: list[int] = []

    async def publish(client, user):
        for i in range(ROUNDS):
            await _as(client, user['username'], 'POST', '/post/publish', statuses,
                      type='text', text=f'{user["username"]} {i}')

    async def scroll(client, user):
        for _ in range(ROUNDS):
            body = await _as(client, user['username'], 'GET', '/post/following', statuses,
                             limit=3)
            page = body['data'].get('posts') or []
            if page:
                await _as(client, user['username'], 'GET', '/post/following', statuses,
                          limit=3, beforeId=page[-1]['id'])

    async def flush():
        for _ in range(FLUSHES):
            await asyncio.sleep(0.05)
            await flush_feeds(feed_store)

    await asyncio.gather(*(publish(c, u) for c, u in authors),
                         *(scroll(c, u) for c, u in readers), flush())
    assert statuses and all(status < 500 for status in statuses), sorted(set(statuses))
    await jobs.drain()
    for client, user in readers:
        truth = [p['id'] for p in await posts.timeline(user['id'], 100)]
        assert len(truth) == AUTHORS * ROUNDS
        body = await _as(client, user['username'], 'GET', '/post/following', statuses,
                         limit=100)
        assert [p['id'] for p in body['data']['posts']] == truth
        assert body['data']['total'] == len(truth)
