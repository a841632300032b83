"""Redis lost and found again, under a server with an open WebSocket.

The server under test reaches Redis (sessions, rate limits, verify codes and the
pub/sub that carries notices) through a `TcpProxy` (tests/support/faults.py) that the test
cuts and restores; the shared Redis itself is never touched (and keeps its data, as a
Redis with persistence would across a restart). During the outage `/health` answers,
anything that needs the session store answers 503 `unavailable` promptly, and an open
WebSocket stays open and keeps echoing. When Redis is back, logins work again and the
pub/sub has resubscribed by itself: a follow notice reaches the socket.

Figures: `pytest -s -k outage tests/e2e/test_faults_redis.py` (quoted in docs/reliability.md).
"""
import asyncio
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from dependency_injector import providers

from weiguan.container import build_container
from weiguan.dependencies.passwords import Argon2Hasher

from tests.support.servers import REDIS_URI, reset_backends, start_server, stop_server
from tests.support.servers import test_config as make_config
from tests.support.faults import Outcome, Recorder, TcpProxy, figure
from tests.support import PASSWORD, provided
from tests.support.ws_support import connect, receive

pytestmark = pytest.mark.skipif(not REDIS_URI, reason='needs Redis (WG_TEST_REDIS_URI)')

OUTAGE = 3.5            # seconds without Redis
ANSWER_BOUND = 3.0      # every request answers within this, outage or not
RECOVERY_BOUND = 2.5    # logins and notices work again this soon after the restore
REDIS_TIMEOUT = 5       # the socket timeout of the server's Redis clients (kv.py)


@pytest.fixture
async def proxied(tmp_path):
    """A server whose Redis connections all go through a proxy."""
    uri = urlsplit(REDIS_URI)
    proxy = await TcpProxy(uri.hostname, uri.port or 6379).start()
    config = make_config(tmp_path, REDIS_URI=f'redis://127.0.0.1:{proxy.port}{uri.path}')
    container = build_container(config)
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    container.hasher.override(providers.Object(Argon2Hasher(cheap)))
    await container.init_resources()
    handle, clients = None, []
    try:
        await reset_backends(container)
        handle, server = await start_server(config, container)

        def client() -> httpx.AsyncClient:
            clients.append(httpx.AsyncClient(base_url=server.url, timeout=30))
            return clients[-1]
        yield server, proxy, container, client
    finally:
        for each in clients:
            await each.aclose()
        proxy.restore()
        if handle is not None:
            await stop_server(handle)
        await container.shutdown_resources()
        await proxy.close()


async def echo(ws, text: str) -> dict:
    """Send `text`, return its echo (skipping notices of other test runs that share
    this Redis: pub/sub channels are not per database)."""
    await ws.send(text)
    while True:
        message = await receive(ws)
        if message['type'] == 'normal' and text in message['content']:
            return message


async def notice_from(ws, name: str, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await receive(ws, timeout=left)
        except asyncio.TimeoutError:
            return None
        if message['type'] == 'notify' and name in message['content']:
            return message
    return None


async def test_outage_redis_restart(proxied):
    server, proxy, container, client = proxied
    broker = await container.broker()
    alice_name, bob_name = (f'{n}{uuid.uuid4().hex[:8]}' for n in ('alice', 'bob'))
    alice, bob = client(), client()
    for http, name in ((alice, alice_name), (bob, bob_name)):
        body = (await http.post('/account/register', json={
            'username': name, 'password': PASSWORD})).json()
        assert body['code'] == 'ok', body
    bob_id = (await bob.get('/account/info')).json()['data']['user']['id']
    rec = Recorder()

    async with connect(server, bob) as bob_ws:
        assert bob_name in (await receive(bob_ws))['content']
        await asyncio.wait_for(broker.subscribed.wait(), 5)

        proxy.cut('refuse')
        rec.cut_at = rec.now()
        during = []
        while rec.now() < rec.cut_at + OUTAGE:
            during += [
                await rec.call('health', alice.get('/health')),
                await rec.call('login', client().post('/account/login', json={
                    'username': alice_name, 'password': PASSWORD})),
                await rec.call('info (logged in)', alice.get('/account/info')),
                await rec.call('follow (logged in)', alice.post('/user/follow', json={
                    'followingId': bob_id})),
            ]
            echoed = await echo(bob_ws, f'still there at {rec.now():.1f}?')
            await asyncio.sleep(0.2)
        subscription_lost = not broker.subscribed.is_set()

        proxy.restore()
        rec.restored_at = rec.now()
        while (await rec.call('login', alice.post('/account/login', json={
                'username': alice_name, 'password': PASSWORD}))).code != 'ok':
            assert rec.now() < rec.restored_at + 10, rec.counts()
            await asyncio.sleep(0.05)
        login_recovery = rec.outcomes[-1].ended - rec.restored_at
        # follow (and unfollow, to follow again) until a notice reaches the socket
        notice = None
        while notice is None and rec.now() < rec.restored_at + 10:
            await rec.call('follow', alice.post('/user/follow', json={
                'followingId': bob_id}))
            notice = await notice_from(bob_ws, alice_name, timeout=0.25)
            if notice is None:
                await rec.call('unfollow', alice.post('/user/unfollow', json={
                    'followingId': bob_id}))
        notice_recovery = rec.now() - rec.restored_at
        echoed_after = await echo(bob_ws, 'and after?')
        ws_open = bob_ws.close_code is None

    figure('redis outage', requests_during_outage=len(during),
           during_outage=rec.counts(during), slowest=f'{rec.slowest():.2f}s',
           websocket_echo_during_outage=bool(echoed), websocket_open=ws_open,
           subscription_lost=subscription_lost, proxy_connections_reset=proxy.reset,
           login_recovery=f'{login_recovery:.2f}s',
           notice_recovery=f'{notice_recovery:.2f}s')
    by_action = {(o.action, o.status, o.code) for o in during}
    assert by_action == {('health', 200, 'ok'), ('login', 503, 'unavailable'),
                         ('info (logged in)', 503, 'unavailable'),
                         ('follow (logged in)', 503, 'unavailable')}, by_action
    assert rec.slowest() < ANSWER_BOUND, sorted(o.seconds for o in rec.outcomes)[-5:]
    assert echoed and echoed_after and ws_open
    assert subscription_lost  # the pub/sub connection was cut too, and came back:
    assert notice is not None and notice['title']
    assert login_recovery < RECOVERY_BOUND and notice_recovery < RECOVERY_BOUND
    # the sessions of before the outage are still valid (Redis kept its data)
    body = (await bob.get('/account/info')).json()
    assert body['data']['user']['id'] == bob_id


async def test_outage_redis_partition(proxied):
    """No byte passes for a while (the connections stay open): requests that need
    Redis answer 503 after the client's socket timeout rather than hang, and so does
    the notice a follow publishes after its commit; then everything goes on."""
    server, proxy, container, client = proxied
    names = [f'{n}{uuid.uuid4().hex[:8]}' for n in ('alice', 'carol')]
    alice, carol = client(), client()
    ids = []
    for http, name in zip((alice, carol), names):
        body = (await http.post('/account/register', json={
            'username': name, 'password': PASSWORD})).json()
        assert body['code'] == 'ok', body
        ids.append(body['data']['user']['id'])
    [messages] = await provided(container, 'message_service')
    rec = Recorder()

    async def notice() -> Outcome:  # what a follow does last, after its commit
        started = rec.now()
        await messages.notify_followed(ids[1], ids[0])
        outcome = Outcome('notice publish', started, rec.now(), None, None)
        rec.outcomes.append(outcome)
        return outcome

    async with connect(server, alice) as ws:
        assert names[0] in (await receive(ws))['content']
        await asyncio.wait_for((await container.broker()).subscribed.wait(), 5)
        proxy.cut('blackhole')
        rec.cut_at = rec.now()
        during = await asyncio.gather(
            rec.call('health', alice.get('/health')),
            rec.call('login', client().post('/account/login', json={
                'username': names[0], 'password': PASSWORD})),
            rec.call('info (logged in)', alice.get('/account/info')),
            rec.call('follow (logged in)', carol.post('/user/follow', json={
                'followingId': ids[0]})),
            notice())
        echoed = await echo(ws, 'partitioned?')
        proxy.restore()
        rec.restored_at = rec.now()
        after = await rec.call('login', client().post('/account/login', json={
            'username': names[0], 'password': PASSWORD}))
        followed = await rec.call('follow', carol.post('/user/follow', json={
            'followingId': ids[0]}))
        delivered = await notice_from(ws, names[1], timeout=RECOVERY_BOUND)
    figure('redis partition', partition=f'{rec.restored_at - rec.cut_at:.2f}s',
           during_partition={o.action: f'{o.status} {o.code} in {o.seconds:.2f}s'
                             for o in during},
           websocket_echo=bool(echoed), login_after=after.code, follow_after=followed.code,
           notice_after=delivered is not None)
    answers = {o.action: (o.status, o.code) for o in during}
    assert answers == {'health': (200, 'ok'), 'login': (503, 'unavailable'),
                       'info (logged in)': (503, 'unavailable'),
                       'follow (logged in)': (503, 'unavailable'),
                       'notice publish': (None, None)}, answers
    assert during[0].seconds < 1  # /health does not wait for Redis
    assert max(o.seconds for o in during) < REDIS_TIMEOUT + 1.5
    assert echoed
    assert (after.code, followed.code) == ('ok', 'ok') and delivered is not None
