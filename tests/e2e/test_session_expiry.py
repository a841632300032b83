"""Sessions end: when idle (SESSION_IDLE_EXPIRY), when old (SESSION_EXPIRY from
login), at logout (deleted from the store), and on a password change (every other
session of the user). End to end with the session clock replaced by one the test
moves; the store's own TTLs with the store's clock moved too (StoreTime): nothing
waits on real time."""
import time

import httpx
import orjson
import pytest
from dependency_injector import providers

from weiguan.dependencies.kv import MemoryStore, RedisStore, create_redis
from weiguan.dependencies.sessions import PREFIX, USER_PREFIX, SessionStore

from tests.support.servers import REDIS_URI
from tests.support.servers import test_config as make_config
from tests.support.fakes_accounts import FakeClock
from tests.support import PASSWORD, call, register

DAY = 24 * 3600
pytestmark = pytest.mark.usefixtures('fast_passwords')


@pytest.fixture
def clock(container):
    """The sessions' wall clock, moved by hand; set before the server starts."""
    fake = FakeClock(start=time.time())
    container.clock.override(providers.Object(fake))
    yield fake
    container.clock.reset_override()


class StoreTime:
    """Time passing for the key-value store. MemoryStore and RedisStore's member
    sets read the clock; Redis counts its key TTLs on its own clock, so there each
    key's remaining TTL is shortened by as much, and a key whose TTL runs out is
    deleted: what Redis does once that time has really passed."""

    def __init__(self, store, clock: FakeClock):
        self.store, self.clock = store, clock

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if isinstance(self.store, RedisStore):
            client = self.store.client
            async for key in client.scan_iter():
                left = await client.pttl(key)  # -1: no TTL, -2: gone meanwhile
                if left >= 0:
                    if left - seconds * 1000 <= 0:
                        await client.delete(key)
                    else:
                        await client.pexpire(key, int(left - seconds * 1000))


def store_on(kind: str, clock: FakeClock):
    return MemoryStore(clock=clock) if kind == 'memory' else \
        RedisStore(create_redis(REDIS_URI), clock=clock)


@pytest.fixture
async def store_time(container, clock, config):
    """The container's store, and the sessions, on one clock the test moves; set
    before the server starts."""
    store = store_on('redis' if config['REDIS_URI'] else 'memory', clock)
    container.store.override(providers.Object(store))
    yield StoreTime(store, clock)
    container.store.reset_override()
    await store.close()


async def whoami(client: httpx.AsyncClient) -> str | None:
    body = await call(client, 'GET', '/account/info')
    assert body['code'] == 'ok', body
    user = body['data']['user']
    return user and user['username']


async def stored(container, client: httpx.AsyncClient) -> dict | None:
    store = await container.store()
    raw = await store.get(PREFIX + client.cookies['session'])
    return raw and orjson.loads(raw)


# --- idle and absolute expiry ------------------------------------------------------

async def test_an_idle_session_ends_after_the_idle_expiry(clock, client, config):
    assert config['SESSION_IDLE_EXPIRY'] == 7 * DAY
    await register(client, 'alice')
    for _ in range(3):  # used every 6 days: it lives on past the first 7
        clock.advance(6 * DAY)
        assert await whoami(client) == 'alice'
    clock.advance(7 * DAY)
    assert await whoami(client) is None


async def test_a_used_session_still_ends_30_days_after_login(clock, client, config):
    assert config['SESSION_EXPIRY'] == 30 * DAY
    await register(client, 'alice')
    for _ in range(5):
        clock.advance(5 * DAY)
        assert await whoami(client) == 'alice'
    clock.advance(5 * DAY - 60)
    assert await whoami(client) == 'alice'
    clock.advance(60)
    assert await whoami(client) is None


async def test_the_last_use_is_written_at_most_once_per_interval(clock, client, container,
                                                                 config):
    interval = config['SESSION_REFRESH_INTERVAL']
    await register(client, 'alice')
    login = await stored(container, client)
    assert login['created'] == login['seen'] == round(clock.now, 3)
    for _ in range(3):
        clock.advance(interval / 4)
        response = await client.get('/account/info')
        assert 'set-cookie' not in response.headers
        assert await stored(container, client) == login  # no write
    clock.advance(interval / 4)
    response = await client.get('/account/info')
    assert 'set-cookie' not in response.headers  # the cookie outlives the refresh
    refreshed = await stored(container, client)
    assert refreshed['seen'] == round(clock.now, 3)
    assert refreshed['created'] == login['created']


class TestIdleTTL:
    """The store itself drops the key: the TTL it is given is the idle expiry.
    (How a refresh moves the TTL: test_session_ttls_follow_both_expiries below.)"""

    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path, SESSION_IDLE_EXPIRY=1)

    async def test_the_stored_session_expires_when_idle(self, store_time, client,
                                                        container):
        await register(client, 'alice')
        assert await store_time.store.ttl(PREFIX + client.cookies['session']) == 1
        await store_time.advance(1)
        assert await stored(container, client) is None
        assert await whoami(client) is None


class TestAbsoluteTTL:
    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path, SESSION_EXPIRY=2, SESSION_REFRESH_INTERVAL=0)

    async def test_the_stored_session_expires_after_the_absolute_expiry(self, store_time,
                                                                        client,
                                                                        container):
        await register(client, 'alice')
        key = PREFIX + client.cookies['session']
        assert await store_time.store.ttl(key) == 2
        await store_time.advance(1)
        assert await whoami(client) == 'alice'  # used, refreshed: not extended
        assert await store_time.store.ttl(key) == 1
        await store_time.advance(1)
        assert await stored(container, client) is None
        assert await whoami(client) is None


# --- logout and password change ---------------------------------------------------

async def test_logout_deletes_the_server_side_session(client, container, server):
    alice = await register(client, 'alice')
    sid = client.cookies['session']
    store = await container.store()
    assert await store.members(USER_PREFIX + str(alice['id'])) == [sid]
    await client.get('/account/logout')
    assert await store.get(PREFIX + sid) is None
    assert await store.members(USER_PREFIX + str(alice['id'])) == []
    async with httpx.AsyncClient(base_url=server.url, cookies={'session': sid}) as replay:
        assert await whoami(replay) is None


async def test_a_password_change_logs_out_the_other_clients_not_this_one(make_client):
    phone, tablet, laptop, bob = (make_client() for _ in range(4))
    await register(phone, 'alice')
    await register(bob, 'bob')
    for other in (tablet, laptop):
        body = await call(other, 'POST', '/account/login', username='alice',
                          password=PASSWORD)
        assert body['code'] == 'ok'

    body = await call(phone, 'POST', '/account/modify', password='new-secret-9')
    assert body['code'] == 'ok'

    assert await whoami(phone) == 'alice'
    assert await whoami(tablet) is None and await whoami(laptop) is None
    assert await whoami(bob) == 'bob'  # other users keep theirs
    old = await call(tablet, 'POST', '/account/login', username='alice', password=PASSWORD)
    assert old['code'] == 'fail'
    new = await call(tablet, 'POST', '/account/login', username='alice',
                     password='new-secret-9')
    assert new['code'] == 'ok' and await whoami(tablet) == 'alice'


async def test_other_changes_log_nobody_out(make_client):
    phone, tablet = make_client(), make_client()
    await register(phone, 'alice')
    await call(tablet, 'POST', '/account/login', username='alice', password=PASSWORD)
    assert (await call(phone, 'POST', '/account/modify', intro='hi'))['code'] == 'ok'
    assert await whoami(tablet) == 'alice'


# --- the session store and the member sets under it ---------------------------------

STORES = ['memory'] + (['redis'] if REDIS_URI else [])


@pytest.fixture(params=STORES)
async def bare_store_time(request):
    """A bare store of each kind on a clock the test moves."""
    clock = FakeClock(start=time.time())
    store = store_on(request.param, clock)
    if isinstance(store, RedisStore):
        await store.client.flushdb()
    yield StoreTime(store, clock)
    if isinstance(store, RedisStore):
        await store.client.flushdb()
    await store.close()


@pytest.fixture
def store(bare_store_time):
    return bare_store_time.store


async def test_members_expire_one_by_one_and_can_be_removed(bare_store_time, store):
    await store.add_member('set', 'a', 1)
    await store.add_member('set', 'b', 60)
    await store.add_member('set', 'c', 60)
    assert sorted(await store.members('set')) == ['a', 'b', 'c']
    await store.remove_members('set', 'c', 'unknown')
    await bare_store_time.advance(1)
    assert await store.members('set') == ['b']
    assert await store.members('no-such-set') == []


async def test_a_refresh_does_not_bring_back_an_ended_session(store):
    sessions = SessionStore(store, expiry=3600, idle_expiry=600, refresh_interval=60)
    await sessions.save('sid-1', {'user_id': 1})
    await sessions.track(1, 'sid-1')
    data = await sessions.load('sid-1')
    assert data['user_id'] == 1
    assert await sessions.end_others(1, keep=None) == 1  # a password change elsewhere
    await sessions.save('sid-1', data, refresh=True)  # the in-flight request's refresh
    assert await sessions.load('sid-1') is None


async def test_session_ttls_follow_both_expiries(store):
    clock = FakeClock(start=10_000)
    sessions = SessionStore(store, expiry=100, idle_expiry=40, refresh_interval=10,
                            clock=clock)
    await sessions.save('sid', {'user_id': 1})
    assert 39 <= await store.ttl(PREFIX + 'sid') <= 40  # idle first
    clock.advance(80)
    data = await sessions.load('sid')
    assert data is None  # idle for 80 s by the clock, though the store still has it
    await sessions.save('sid', {'user_id': 1, 'created': 10_000}, refresh=True)
    assert 19 <= await store.ttl(PREFIX + 'sid') <= 20  # 20 s of the 100 remain
    clock.advance(20)
    await sessions.save('sid', {'user_id': 1, 'created': 10_000}, refresh=True)
    assert await store.get(PREFIX + 'sid') is None  # past the absolute expiry: deleted
