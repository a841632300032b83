"""The FeedStore contract (weiguan/services/ports.py), run against the in-process
feeds always and the Redis feeds when WG_TEST_REDIS_URI is set: everything
services/feeds.py relies on."""
import pytest

from tests.support.feeds import expire_feed, flush_feeds
from tests.support.servers import REDIS_URI
from weiguan.dependencies.feeds_memory import MemoryFeeds
from weiguan.dependencies.feeds_redis import RedisFeeds
from weiguan.dependencies.kv import create_redis

TTL = 3600
TOP = 2 ** 62


@pytest.fixture(params=['in-process'] + (['redis'] if REDIS_URI else []))
async def store(request):
    if request.param == 'in-process':
        yield MemoryFeeds()
        return
    client = create_redis(REDIS_URI)
    store = RedisFeeds(client)
    await flush_feeds(store)
    yield store
    await flush_feeds(store)
    await client.aclose()


async def built(store, user_id: int, ids: list[int], floor: int = 0, max_items: int = 10):
    await store.begin(user_id, TTL)
    assert await store.finish(user_id, ids, floor, max_items, TTL)


async def ids(store, user_id: int, lower: int = 0, upper: int = TOP, limit: int = 100,
              newest_first: bool = True):
    return (await store.read(user_id, lower, upper, limit, newest_first, TTL)).ids


async def test_a_missing_feed_differs_from_a_built_empty_one(store):
    assert await ids(store, 1) is None
    await built(store, 1, [])
    assert await ids(store, 1) == []
    assert await ids(store, 2) is None


async def test_reads_take_a_range_either_way_with_a_limit(store):
    await built(store, 1, [5, 3, 9, 1, 7])
    assert await ids(store, 1) == [9, 7, 5, 3, 1]
    assert await ids(store, 1, limit=2) == [9, 7]
    assert await ids(store, 1, upper=7, limit=2) == [5, 3]
    assert await ids(store, 1, lower=3, newest_first=False) == [5, 7, 9]
    assert await ids(store, 1, lower=3, limit=2, newest_first=False) == [5, 7]
    assert await ids(store, 1, lower=3, upper=9) == [7, 5]
    assert await ids(store, 1, lower=9) == []


async def test_adds_go_to_existing_feeds_only_and_are_capped(store):
    await built(store, 1, [1, 2], max_items=3)
    await store.add([1, 2], [3], max_items=3)
    assert await ids(store, 1) == [3, 2, 1]
    assert await ids(store, 2) is None  # an inactive reader gets nothing
    await store.add([1], [4, 3], max_items=3)
    assert await ids(store, 1) == [4, 3, 2]
    read = await store.read(1, 0, TOP, 10, True, TTL)
    assert read.floor == 1  # the feed holds every post above its floor
    await store.add([1], [1], max_items=3)  # below the window: not taken
    assert await ids(store, 1) == [4, 3, 2]
    await store.remove([1, 2], [3])
    assert await ids(store, 1) == [4, 2]
    assert await ids(store, 2) is None


async def test_a_rebuild_keeps_what_fan_outs_added_meanwhile(store):
    assert await store.begin(1, TTL) is True
    assert await store.begin(1, TTL) is True  # a retried job: still to be built
    assert await ids(store, 1) is None  # not built yet: readers read MySQL
    await store.add([1], [8], max_items=10)
    assert await store.finish(1, [5, 2], 0, 10, TTL)
    assert await ids(store, 1) == [8, 5, 2]
    assert await store.begin(1, TTL) is False  # a built feed is left as it is
    assert await ids(store, 1) == [8, 5, 2]
    assert not await store.finish(1, [1], 0, 10, TTL)
    assert await ids(store, 1) == [8, 5, 2]


async def test_a_rebuild_of_a_full_feed_starts_at_its_floor(store):
    await store.begin(1, TTL)
    assert await store.finish(1, [9, 8, 7], 6, 3, TTL)
    assert (await store.read(1, 0, TOP, 10, True, TTL)).floor == 6
    await store.add([1], [10], max_items=3)
    assert await ids(store, 1) == [10, 9, 8]


async def test_a_feed_lost_during_its_rebuild_stays_lost(store):
    await store.begin(1, TTL)
    await flush_feeds(store)
    assert not await store.finish(1, [3], 0, 10, TTL)
    assert await ids(store, 1) is None


async def test_an_expired_feed_is_missing(store):
    await built(store, 1, [1])
    await built(store, 2, [1])
    await expire_feed(store, 1)
    assert await ids(store, 1) is None
    assert await ids(store, 2) == [1]
    await store.add([1], [2], max_items=10)
    assert await ids(store, 1) is None


async def test_the_rebuild_lock_is_held_once(store):
    assert await store.lock(1, 30)
    assert not await store.lock(1, 30)
    assert await store.lock(2, 30)
    await store.unlock(1)
    assert await store.lock(1, 30)


async def test_pending_posts_and_big_authors_come_with_every_read(store):
    await store.add_pending(11, 3)
    await store.add_pending(12, 4)
    await store.add_big_author(5)
    read = await store.read(1, 0, TOP, 10, True, TTL)
    assert (read.ids, read.pending, read.big_authors) == (None, {11: 3, 12: 4}, {5})
    await store.remove_pending(11)
    await store.remove_pending(11)
    assert (await store.read(1, 0, TOP, 10, True, TTL)).pending == {12: 4}


async def test_a_cached_total_is_written_only_if_no_write_came_since_its_read(store):
    first = await store.read(1, 0, TOP, 10, True, TTL)
    assert first.total is None
    await store.set_total(1, first.token, 7)
    read = await store.read(1, 0, TOP, 10, True, TTL)
    assert (read.total, read.token) == (7, first.token)
    await store.add([1], [5], max_items=10)  # a fan-out (the feed is missing: no id)
    read = await store.read(1, 0, TOP, 10, True, TTL)
    assert read.total is None and read.token != first.token
    await store.set_total(1, first.token, 8)  # computed before that write: refused
    assert (await store.read(1, 0, TOP, 10, True, TTL)).total is None
    await store.set_total(1, read.token, 8)
    assert (await store.read(1, 0, TOP, 10, True, TTL)).total == 8
    await store.remove([1], [5])
    assert (await store.read(1, 0, TOP, 10, True, TTL)).total is None
    await store.set_total(1, (await store.read(1, 0, TOP, 10, True, TTL)).token, 9)
    await store.drop_total(1)
    assert (await store.read(1, 0, TOP, 10, True, TTL)).total is None


async def test_a_cached_total_is_gone_with_a_flush(store):
    read = await store.read(1, 0, TOP, 10, True, TTL)
    await store.set_total(1, read.token, 7)
    await flush_feeds(store)
    await store.set_total(1, read.token, 8)
    assert (await store.read(1, 0, TOP, 10, True, TTL)).total is None


async def test_deletions_not_cleaned_yet_come_with_every_read(store):
    await store.add_deleting(21, 3)
    assert (await store.read(1, 0, TOP, 10, True, TTL)).deleting == {21: 3}
    await store.remove_deleting(21)
    assert (await store.read(1, 0, TOP, 10, True, TTL)).deleting == {}


async def test_the_feeds_work_after_redis_forgot_their_scripts(store):
    """A restarted Redis has no scripts loaded: reads, adds and removes load them."""
    async def forget_scripts() -> None:
        if isinstance(store, RedisFeeds):
            await store.client.script_flush()

    await built(store, 1, [1, 2])
    await forget_scripts()
    assert await ids(store, 1) == [2, 1]
    await forget_scripts()
    await store.add([1], [3], max_items=10)
    assert await ids(store, 1) == [3, 2, 1]
    await forget_scripts()
    await store.remove([1], [2])
    assert await ids(store, 1) == [3, 1]
