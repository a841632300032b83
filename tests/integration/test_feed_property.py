"""THE property of the home feeds: whatever happens (publish, delete, follow,
unfollow, a flushed Redis, a reader whose feed expired), every reader's timeline
pages — the first, with beforeId, with afterId, at several limits — and total equal
what the SQL pull (PostRepository.timeline / timeline_total, kept as the reference)
answers for the same data: checked at random points while jobs are held back or
running, and after draining them. On the pass's backends: SQLite + the in-process feeds, or
MariaDB + Redis. Authors with two followers or more are "big" here (not fanned out,
merged at read) and the fan-out reads followers two at a time, so every path runs."""
import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support import provided
from tests.support.feeds import HeldJobs, expire_feed, flush_feeds
from tests.support import servers
from weiguan.container import build_container
from weiguan.entities.enums import PostType
from weiguan.entities.errors import Duplicate

USERS = 3
LIMITS = (1, 2, 5)
user = st.integers(0, USERS - 1)
step = st.one_of(
    st.tuples(st.just('publish'), user), st.tuples(st.just('publish'), user),
    st.tuples(st.just('delete'), st.integers(0, 50)),
    st.tuples(st.just('follow'), user, user), st.tuples(st.just('follow'), user, user),
    st.tuples(st.just('unfollow'), user, user),
    st.tuples(st.just('flush')), st.tuples(st.just('expire'), user),
    st.tuples(st.just('check')), st.tuples(st.just('check')),
    st.tuples(st.just('release')), st.tuples(st.just('drain')))
# a start that builds feeds: some follows, then every reader's pages read
start = st.lists(st.tuples(st.just('follow'), user, user), max_size=5).map(
    lambda follows: follows + [('check',)])


@pytest.fixture
async def world(tmp_path):
    container = build_container(servers.test_config(tmp_path, FANOUT_MAX_FOLLOWERS=1,
                                            FANOUT_BATCH_SIZE=2))
    container.job_queue.override(providers.Object(HeldJobs()))
    await container.init_resources()
    yield container
    await container.shutdown_resources()


class Run:
    def __init__(self, container, objects):
        (self.users, self.posts, self.post_service, self.user_service, self.feed_store,
         self.jobs) = objects
        self.container = container
        self.ids: list[int] = []
        self.live: dict[int, int] = {}  # post id -> author
        self.pivots: set[int] = set()

    async def start(self) -> None:
        await servers.reset_backends(self.container)
        await flush_feeds(self.feed_store)
        self.ids = [(await self.users.create(f'u{i}', 'hash'))['id'] for i in range(USERS)]

    async def apply(self, op: tuple) -> None:
        kind, *args = op
        if kind == 'publish':
            author = self.ids[args[0]]
            post = await self.post_service.publish(author, PostType.TEXT, text='hi')
            self.live[post['id']] = author
            self.pivots.add(post['id'])
        elif kind == 'delete' and self.live:
            post_id = sorted(self.live)[args[0] % len(self.live)]
            await self.post_service.delete(self.live.pop(post_id), post_id)
        elif kind in ('follow', 'unfollow') and args[0] != args[1]:
            reader, author = self.ids[args[0]], self.ids[args[1]]
            try:
                await getattr(self.user_service, kind)(reader, author)
            except Duplicate:
                pass
        elif kind == 'flush':
            await flush_feeds(self.feed_store)
        elif kind == 'expire':
            await expire_feed(self.feed_store, self.ids[args[0]])
        elif kind == 'check':
            await self.check()
        elif kind == 'release':
            await self.jobs.release()
        elif kind == 'drain':
            await self.jobs.drain()

    async def check(self) -> None:
        for reader in self.ids:
            total = await self.posts.timeline_total(reader)
            for limit in LIMITS:
                pages = [(None, None)] + [(p, None) for p in sorted(self.pivots)] + \
                        [(None, p) for p in sorted(self.pivots)]
                for before_id, after_id in pages:
                    truth = [p['id'] for p in await self.posts.timeline(
                        reader, limit, before_id=before_id, after_id=after_id)]
                    posts, got_total = await self.post_service.timeline(
                        reader, limit, before_id=before_id, after_id=after_id)
                    assert ([p['id'] for p in posts], got_total) == (truth, total), \
                        (reader, limit, before_id, after_id)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(first=start, steps=st.lists(step, min_size=1, max_size=20))
async def test_every_page_equals_the_sql_pull_whatever_happened(world, first, steps):
    run = Run(world, await provided(world, 'users', 'posts', 'post_service', 'user_service',
                                    'feed_store', 'job_queue'))
    await run.start()
    for op in first + steps:
        await run.apply(op)
    await run.jobs.drain()
    await run.check()
