"""FeedService on the fakes with the in-process feeds and jobs: what a reader sees
while the fan-out is late, after it ran, for big authors, at the end of the window,
after a long absence, when many readers come cold at once, and when fan-outs run
side by side."""
import asyncio

import pytest

from tests.support.fakes_social import make_social
from tests.support.feeds import HeldJobs
from weiguan.entities.enums import PostType

TOP = 2 ** 62


async def _users(social, *names):
    return [(await social.users.create(name, 'hash'))['id'] for name in names]


async def _publish(social, author, times=1):
    return [(await social.post_service.publish(author, PostType.TEXT, f'p{i}'))['id']
            for i in range(times)]


async def _page(social, reader, limit=20, **cursor):
    posts, total = await social.post_service.timeline(reader, limit, **cursor)
    return [p['id'] for p in posts], total


async def _feed(social, reader):
    return (await social.feed_store.read(reader, 0, TOP, 1000, True, 3600)).ids


async def test_a_post_shows_before_its_fan_out_runs_and_from_the_feed_after():
    social = make_social(jobs=HeldJobs())
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    assert await _page(social, alice) == ([], 0)  # queues the rebuild of alice's feed
    assert await _feed(social, alice) is None
    await social.jobs.drain()
    [post] = await _publish(social, bob)
    assert await _feed(social, alice) == []
    assert await _page(social, alice) == ([post], 1)  # merged from the pending posts
    await social.jobs.drain()
    assert await _feed(social, alice) == [post]
    assert await _page(social, alice) == ([post], 1)


async def test_a_deleted_post_leaves_every_page_at_once_and_the_feeds_by_a_job():
    social = make_social(jobs=HeldJobs())
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    await _page(social, alice)
    first, second = await _publish(social, bob, 2)
    await social.jobs.drain()
    await social.post_service.delete(bob, second)
    assert await _page(social, alice) == ([first], 1)
    assert await _feed(social, alice) == [second, first]
    await social.jobs.drain()
    assert await _feed(social, alice) == [first]


async def test_big_authors_are_not_fanned_out_but_merged_at_read():
    social = make_social(fanout_max_followers=1)
    star, alice, bob = await _users(social, 'star', 'alice', 'bob')
    for reader in (alice, bob):
        await social.user_service.follow(reader, star)
        await _page(social, reader)
    await social.jobs.drain()  # the feeds' rebuilds, before the posts: they would hold them
    posts = await _publish(social, star, 3)
    await social.jobs.drain()
    assert await _feed(social, alice) == []
    assert social.feed_store.big_authors == {star}
    assert await _page(social, alice, limit=2) == (posts[:0:-1], 3)
    assert await _page(social, bob, limit=2, before_id=posts[1]) == ([posts[0]], 3)
    assert await _page(social, bob, limit=1, after_id=posts[0]) == ([posts[1]], 3)
    await social.user_service.unfollow(bob, star)
    assert await _page(social, bob) == ([], 0)


async def test_the_fan_out_walks_the_followers_in_batches():
    social = make_social(batch_size=2)
    author, *readers = await _users(social, 'author', 'a', 'b', 'c', 'd', 'e')
    for reader in readers:
        await social.user_service.follow(reader, author)
        await _page(social, reader)
    [post] = await _publish(social, author)
    await social.jobs.drain()
    assert [await _feed(social, r) for r in readers] == [[post]] * 5
    assert social.feed_store.pending == {}


class InFlight:
    """The feed store, counting the batch writes in flight: each yields once, as a
    round trip to Redis would, so a concurrent job could send its own meanwhile."""

    def __init__(self, store):
        self.store, self.now, self.most = store, 0, 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    async def _counted(self, write, *args):
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0)
            return await write(*args)
        finally:
            self.now -= 1

    async def add(self, *args):
        return await self._counted(self.store.add, *args)

    async def remove(self, *args):
        return await self._counted(self.store.remove, *args)


@pytest.mark.parametrize('in_flight', [1, 3])
async def test_concurrent_fan_outs_and_cleans_send_their_batches_in_turn(in_flight):
    social = make_social(jobs=HeldJobs(), batch_size=2, batches_in_flight=in_flight)
    authors = await _users(social, 'x', 'y', 'z')
    readers = await _users(social, 'a', 'b', 'c', 'd', 'e')
    for reader in readers:
        for author in authors:
            await social.user_service.follow(reader, author)
        await _page(social, reader)
    await social.jobs.drain()
    social.feeds.store = counted = InFlight(social.feed_store)
    posts = [(await _publish(social, author))[0] for author in authors]
    await asyncio.gather(*(social.feeds.fan_out(post, author)
                           for post, author in zip(posts, authors)))
    assert counted.most == in_flight  # three jobs of three batches each
    assert [await _feed(social, r) for r in readers] == [posts[::-1]] * 5
    counted.most = 0
    await asyncio.gather(*(social.feeds.clean(post, author)
                           for post, author in zip(posts, authors)))
    assert counted.most == in_flight
    assert [await _feed(social, r) for r in readers] == [[]] * 5


async def test_the_timeline_ends_at_the_feed_window():
    social = make_social(max_items=3)
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    posts = await _publish(social, bob, 5)
    assert await _page(social, alice) == (posts[:1:-1], 5)  # rebuilt: the newest 3
    assert await _page(social, alice, before_id=posts[2]) == ([], 5)
    [newest] = await _publish(social, bob)
    await social.jobs.drain()
    assert await _page(social, alice) == ([newest, posts[4], posts[3]], 6)


async def _reader_of_two(jobs):
    """alice follows bob and carol, her feed built; the jobs as given."""
    social = make_social(jobs=jobs)
    alice, bob, carol = await _users(social, 'alice', 'bob', 'carol')
    for author in (bob, carol):
        await social.user_service.follow(alice, author)
    await _page(social, alice)
    return social, alice, bob, carol


async def test_a_page_short_of_visible_posts_reads_on():
    social, alice, bob, carol = await _reader_of_two(HeldJobs())
    kept = await _publish(social, carol, 3)
    gone = await _publish(social, bob, 12)
    await social.jobs.drain()
    for post in gone:  # the clean jobs are held: the feed still has them all
        await social.post_service.delete(bob, post)
    assert len(await _feed(social, alice)) == 15
    assert await _page(social, alice, limit=2) == (kept[:0:-1], 3)
    assert await _page(social, alice, limit=5) == (kept[::-1], 3)


async def test_posts_of_an_unfollowed_author_left_in_a_feed_are_not_shown():
    """A fan-out that read the followers before an unfollow adds after its removal:
    the newest posts of the feed are then an author's the reader left, and the page
    is made of the followed author's posts below them."""
    social, alice, bob, carol = await _reader_of_two(HeldJobs())
    kept = await _publish(social, carol, 3)
    await social.jobs.drain()
    await social.user_service.unfollow(alice, bob)
    late = await _publish(social, bob, 4)
    await social.feed_store.add([alice], late, 800)  # the late fan-out's writes
    assert set(late) <= set(await _feed(social, alice))
    assert await _page(social, alice, limit=2) == (kept[:0:-1], 3)
    assert await _page(social, alice, limit=5) == (kept[::-1], 3)


async def test_an_inactive_reader_gets_no_fan_out_and_a_rebuilt_feed():
    social = make_social(active_days=1)
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    assert await _page(social, alice) == ([], 0)
    await social.jobs.drain()  # the feed rebuilt, then left unread
    social.clock.advance(86400 + 1)
    [post] = await _publish(social, bob)
    await social.jobs.drain()
    assert await _feed(social, alice) is None
    assert await _page(social, alice) == ([post], 1)
    await social.jobs.drain()
    assert await _feed(social, alice) == [post]


async def test_concurrent_first_reads_rebuild_the_feed_once():
    social = make_social(jobs=HeldJobs())
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    posts = await _publish(social, bob, 3)
    await social.jobs.drain()
    pages = await asyncio.gather(*(_page(social, alice) for _ in range(5)))
    assert pages == [(posts[::-1], 3)] * 5  # each from MySQL, the feed being missing
    assert social.jobs.held == [('feeds.rebuild', {'reader_id': alice})]
    await social.jobs.drain()
    assert await _feed(social, alice) == posts[::-1]
    assert await _page(social, alice) == (posts[::-1], 3)


async def test_a_rebuild_run_twice_keeps_the_feed_and_ends_the_lock():
    """A retried job (or two queued after the lock ran out) changes nothing."""
    social = make_social(jobs=HeldJobs())
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    [post] = await _publish(social, bob)
    await social.jobs.drain()
    await _page(social, alice)
    await social.jobs.drain()
    await social.feed_store.add([alice], [post + 100], 800)  # only in the feed
    await social.feeds.rebuild(alice)
    assert await _feed(social, alice) == [post + 100, post]
    assert await social.feed_store.lock(alice, 30)  # free again
