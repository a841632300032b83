"""A list page costs the same number of SQL statements whatever its length: pages are
hydrated in batches (one query for all authors, one for all files, one for the
viewer's follows or likes), never a query per row."""
import pytest
import sqlalchemy as sa

from tests.support import call, create_file, logged_in, provided

pytestmark = pytest.mark.usefixtures('fast_passwords')

ITEMS = 50
MOST_STATEMENTS = 6  # page, owner or total, users, files, follows, likes (cold)


@pytest.fixture
async def seeded(server, make_client):
    """A viewer who follows ITEMS users, is followed by them, likes one image post of
    each, and published ITEMS image posts; every user has an own avatar, every post
    an own image file."""
    client, viewer = await logged_in(make_client, 'viewer')
    users, follows, posts, likes = await provided(server.container, 'users', 'follows',
                                                  'posts', 'likes')
    for i in range(ITEMS):
        other = await users.create(f'user{i}', 'not a hash')
        avatar = await create_file(server.container, other['id'])
        await users.update(other['id'], avatar_id=avatar['id'])
        image = await create_file(server.container, other['id'])
        post = await posts.create(other['id'], 'image', f'post {i}', [image['id']], None)
        await follows.follow(viewer['id'], other['id'])
        await follows.follow(other['id'], viewer['id'])
        await likes.like(viewer['id'], post['id'])
        own_image = await create_file(server.container, viewer['id'])
        await posts.create(viewer['id'], 'image', f'mine {i}', [own_image['id']], None)
    return client


class StatementCounter:
    """Statements sent through the engine, and prepared reads sent on the read pool
    (MySQL: those bypass the engine)."""

    def __init__(self, database, monkeypatch):
        self.count = 0
        self.engine = database.engine.sync_engine
        sa.event.listen(self.engine, 'before_cursor_execute', self._count)
        if database.read_pool is not None:
            fetch_all = database.fetch_all

            async def counted(*args, **kwargs):
                self._count()
                return await fetch_all(*args, **kwargs)
            monkeypatch.setattr(database, 'fetch_all', counted)

    def _count(self, *args):
        self.count += 1

    def close(self):
        sa.event.remove(self.engine, 'before_cursor_execute', self._count)


@pytest.fixture
async def counter(server, monkeypatch):
    [database] = await provided(server.container, 'database')
    counter = StatementCounter(database, monkeypatch)
    yield counter
    counter.close()


LISTS = {'/post/following': 'posts', '/post/published': 'posts', '/post/liked': 'posts',
         '/user/followings': 'users', '/user/followers': 'users'}


async def test_list_pages_cost_the_same_statements_at_any_length(seeded, counter, server):
    [jobs] = await provided(server.container, 'job_queue')
    costs = {}
    for path, items in LISTS.items():  # one test: seeding is the slow part
        # both lengths on a warm cache: for the home timeline the first read queues
        # the rebuild of the reader's feed, the next caches its total
        # (docs/architecture.md)
        for _ in range(2):
            await call(seeded, 'GET', path, limit=ITEMS)
            await jobs.drain()
        for limit in (1, ITEMS):
            counter.count = 0
            body = await call(seeded, 'GET', path, limit=limit)
            assert body['code'] == 'ok', body
            assert len(body['data'][items]) == limit, path
            assert body['data']['total'] == ITEMS, path
            costs[path, limit] = counter.count
    for path in LISTS:
        assert costs[path, 1] == costs[path, ITEMS], costs
        assert costs[path, ITEMS] <= MOST_STATEMENTS, costs
    # the home timeline's ids come from the reader's feed, its total, rows and the
    # viewer's flags from the caches: a warm page sends nothing to the database
    assert costs['/post/following', ITEMS] == 0, costs
    assert all(costs[path, ITEMS] > 0 for path in LISTS if path != '/post/following'), costs


async def test_hot_reads_send_fewer_statements_once_the_cache_is_warm(server, make_client,
                                                                      counter):
    """/account/info and /post/info read the profiles, files, post bodies and stat rows
    and the viewer's sets of likes and follows from the caches once warm
    (dependencies/cached_repositories.py, cached_social.py): nothing goes to the
    database."""
    client, _ = await logged_in(make_client, 'viewer')
    _, author = await logged_in(make_client, 'author')
    users, posts = await provided(server.container, 'users', 'posts')
    author_id = author['id']
    avatar = await create_file(server.container, author_id)
    await users.update(author_id, avatar_id=avatar['id'])
    image = await create_file(server.container, author_id)
    post = await posts.create(author_id, 'image', 'hello', [image['id']], None)
    reads = {'/account/info': {}, '/post/info': {'id': post['id']}}
    costs = {}
    for warmth in ('cold', 'warm'):
        for path, query in reads.items():
            counter.count = 0
            body = await call(client, 'GET', path, **query)
            assert body['code'] == 'ok', body
            costs[path, warmth] = counter.count
    assert costs['/account/info', 'warm'] == 0, costs
    assert costs['/post/info', 'warm'] == 0, costs  # the viewer's like and follow too
    for path in reads:
        assert costs[path, 'warm'] < costs[path, 'cold'], costs
