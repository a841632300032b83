"""One contract, two stores: MemoryStore always, RedisStore when WG_TEST_REDIS_URI is
set (the one place where the list of backends depends on the pass)."""
import asyncio

import pytest

from weiguan.dependencies.kv import MemoryStore, RedisStore, create_redis
from weiguan.entities.errors import Unavailable

from tests.support.servers import REDIS_URI
from tests.support.fakes_accounts import FakeClock

STORES = ['memory'] + (['redis'] if REDIS_URI else [])


class Timed:
    """A store and a way to let time pass for it."""

    def __init__(self, store, advance):
        self.store = store
        self.advance = advance


@pytest.fixture(params=STORES)
async def timed(request):
    if request.param == 'memory':
        clock = FakeClock()

        async def advance(seconds):
            clock.advance(seconds)
        yield Timed(MemoryStore(clock=clock), advance)
        return
    store = RedisStore(create_redis(REDIS_URI))
    await store.client.flushdb()
    yield Timed(store, asyncio.sleep)
    await store.client.flushdb()
    await store.close()


async def test_set_get_and_overwrite(timed):
    store = timed.store
    assert await store.get('k') is None
    await store.set('k', 'v1', 60)
    assert await store.get('k') == 'v1'
    await store.set('k', '微观', 60)
    assert await store.get('k') == '微观'


async def test_values_expire(timed):
    store = timed.store
    await store.set('short', 'x', 1)
    await store.set('long', 'y', 60)
    assert 0 < await store.ttl('short') <= 1
    await timed.advance(1.2)
    assert await store.get('short') is None
    assert await store.ttl('short') == 0
    assert await store.get('long') == 'y'
    assert 58 <= await store.ttl('long') <= 60


async def test_ttl_of_a_missing_key_is_zero(timed):
    assert await timed.store.ttl('nothing') == 0


async def test_set_if_absent(timed):
    store = timed.store
    assert await store.set_if_absent('gate', '1', 60) is True
    assert await store.set_if_absent('gate', '2', 60) is False
    assert await store.get('gate') == '1'


async def test_set_if_absent_after_expiry(timed):
    store = timed.store
    assert await store.set_if_absent('gate', '1', 1) is True
    await timed.advance(1.2)
    assert await store.set_if_absent('gate', '2', 60) is True
    assert await store.get('gate') == '2'


async def test_delete_counts_what_existed(timed):
    store = timed.store
    await store.set('a', '1', 60)
    await store.set('b', '2', 60)
    assert await store.delete('a', 'b', 'c') == 2
    assert await store.delete('a') == 0
    assert await store.delete() == 0
    assert await store.get('a') is None and await store.get('b') is None


async def test_of_two_racing_deletes_one_wins(timed):
    store = timed.store
    await store.set('once', '1', 60)
    results = await asyncio.gather(store.delete('once'), store.delete('once'))
    assert sorted(results) == [0, 1]


async def test_incr_counts_and_the_first_increment_sets_the_ttl(timed):
    store = timed.store
    assert await store.incr('n', 60) == 1
    await timed.advance(1)
    assert await store.incr('n', 60) == 2
    assert await store.incr('n', 60) == 3
    assert await store.get('n') == '3'
    assert 57 <= await store.ttl('n') <= 59  # not pushed back by later increments


async def test_incr_starts_over_after_expiry(timed):
    store = timed.store
    await store.incr('n', 1)
    await store.incr('n', 1)
    await timed.advance(1.2)
    assert await store.incr('n', 60) == 1


async def test_ping(timed):
    assert await timed.store.ping() is None


async def test_unreachable_redis_is_unavailable():
    store = RedisStore(create_redis('redis://127.0.0.1:1/0'))
    try:
        for call in (store.get('k'), store.set('k', 'v', 1), store.set_if_absent('k', 'v', 1),
                     store.delete('k'), store.incr('k', 1), store.ttl('k'), store.ping()):
            with pytest.raises(Unavailable):
                await call
    finally:
        await store.close()


async def test_the_memory_store_sweeps_expired_keys_a_bounded_batch_per_write():
    from weiguan.dependencies.kv import MemoryStore
    from tests.support.fakes_accounts import FakeClock
    clock = FakeClock()
    store = MemoryStore(clock=clock, sweep_batch=10)
    for i in range(35):
        await store.incr(f'rate:{i}', 5)  # never read again
    await store.set('session', 'kept', 3600)
    clock.advance(6)
    await store.set('session', 'kept', 3600)   # a write sweeps 10 at most
    assert len(store) == 36 - 10
    for _ in range(3):
        await store.set('code', '123456', 300)
    assert len(store) == 2  # the session and the code; every expired key is gone
    assert await store.get('session') == 'kept'


async def test_a_key_extended_after_its_first_expiry_is_not_swept():
    from weiguan.dependencies.kv import MemoryStore
    from tests.support.fakes_accounts import FakeClock
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    await store.set('s', 'v', 10)
    clock.advance(8)
    await store.set('s', 'v2', 10)  # now expires at +18
    clock.advance(5)                 # past the first expiry, before the second
    await store.set('other', 'x', 1)
    assert await store.get('s') == 'v2'
    clock.advance(6)
    await store.set('other', 'y', 1)
    assert len(store) == 1 and await store.get('s') is None
