"""Two server processes' worth of apps on two ports, sharing the backends: whatever
one of them stores (sessions, verify codes, rate limits) the other sees. On the
embedded pass the in-process store can only be shared by sharing the container; on
the Redis pass each server has its own container, as separate processes would."""
import httpx
import pytest

from weiguan.container import build_container

from tests.support.servers import REDIS_URI, start_server, stop_server
from tests.support import PASSWORD, call


@pytest.fixture
async def servers(config, container):
    second = build_container(config) if REDIS_URI else container
    handles, running = [], []
    for own in (container, second):
        handle, server = await start_server(config, own)
        handles.append(handle)
        running.append(server)
    yield running
    for handle in handles:
        await stop_server(handle)
    if second is not container:
        await second.shutdown_resources()


def client_for(server, sid: str | None = None) -> httpx.AsyncClient:
    cookies = {'session': sid} if sid else None
    return httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=30)


async def user_on(server, sid: str) -> dict | None:
    async with client_for(server, sid) as client:
        body = await call(client, 'GET', '/account/info')
    assert body['code'] == 'ok', body
    return body['data']['user']


async def test_the_servers_are_distinct(servers):
    a, b = servers
    assert a.url != b.url and a.app is not b.app
    if REDIS_URI:
        assert a.container is not b.container


async def test_a_session_made_on_one_server_is_valid_on_the_other(servers):
    a, b = servers
    async with client_for(a) as client:
        await call(client, 'POST', '/account/register', username='alice', password=PASSWORD)
        sid = client.cookies['session']
    alice = await user_on(a, sid)
    assert alice['username'] == 'alice'
    assert await user_on(b, sid) == alice

    async with client_for(b, sid) as client:  # a change made through b ...
        body = await call(client, 'POST', '/account/modify', intro='via b')
        assert body['code'] == 'ok', body
    assert (await user_on(a, sid))['intro'] == 'via b'  # ... is seen through a

    async with client_for(b, sid) as client:  # logging out on b ends it on a
        body = await call(client, 'GET', '/account/logout')
        assert body['data']['user']['id'] == alice['id']
    assert await user_on(a, sid) is None
    assert await user_on(b, sid) is None


async def test_login_on_one_server_retires_the_old_id_on_both(servers):
    a, b = servers
    async with client_for(a) as client:
        await call(client, 'POST', '/account/register', username='alice', password=PASSWORD)
        old = client.cookies['session']
    async with client_for(b, old) as client:
        response = await client.post('/account/login', json={'username': 'alice',
                                                             'password': PASSWORD})
        assert response.json()['code'] == 'ok'
        new = response.cookies['session']
    assert new != old
    assert await user_on(a, old) is None
    assert (await user_on(a, new))['username'] == 'alice'


async def test_verify_codes_and_their_rate_limit_are_shared(servers):
    a, b = servers
    async with client_for(a) as client:
        await call(client, 'POST', '/account/register', username='alice', password=PASSWORD)
        sid = client.cookies['session']
        body = await call(client, 'POST', '/account/send/mobile/verify/code',
                          type='modify', mobile='13800000000')
        code = body['data']['verifyCode']
    async with client_for(b, sid) as client:
        again = await call(client, 'POST', '/account/send/mobile/verify/code',
                           type='modify', mobile='13800000000')
        assert (again['status'], again['code']) == (429, 'too_many_requests')
        body = await call(client, 'POST', '/account/modify', mobile='13800000000',
                          code=code)
        assert body['code'] == 'ok', body
    assert (await user_on(a, sid))['mobile'] == '13800000000'
