"""MySQL or Redis unreachable (a config pointing at 127.0.0.1:1): requests that need
them get 503 `unavailable` and change nothing; /health still answers, /ready says
which dependency is down. These servers are started directly: the `container`
fixture would try to reset the unreachable backends."""
import uuid
from contextlib import asynccontextmanager

import httpx
import orjson

from weiguan.entities import messages
from weiguan.web.sessions import new_sid

from tests.support.servers import start_server, stop_server
from tests.support.servers import test_config as make_config
from tests.support import PASSWORD

DOWN_DB = dict(MYSQL_HOST='127.0.0.1', MYSQL_PORT=1)
DOWN_REDIS = dict(REDIS_URI='redis://127.0.0.1:1/0')
UNAVAILABLE = {'code': 'unavailable', 'message': messages.UNAVAILABLE, 'data': {}}


@asynccontextmanager
async def serving(tmp_path, **overrides):
    """A server on a test config with these overrides, and a client on it."""
    handle, server = await start_server(make_config(tmp_path, **overrides))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            server.http = http
            yield server
    finally:
        await stop_server(handle)


async def post(server, path: str, **payload) -> httpx.Response:
    return await server.http.post(path, json=payload)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert 'set-cookie' not in response.headers


async def logged_in_cookie(server, user_id: int) -> dict:
    """A session for `user_id` written straight into the (reachable) session store."""
    sid = new_sid()
    store = await server.container.store()
    await store.set('session:' + sid, orjson.dumps({'user_id': user_id}).decode(), 60)
    return {'session': sid}


async def test_database_down(tmp_path):
    async with serving(tmp_path, **DOWN_DB) as running:
        assert_unavailable(await post(running, '/account/register', username='alice',
                                      password=PASSWORD))
        assert_unavailable(await post(running, '/account/login', username='alice',
                                      password=PASSWORD))
        cookies = await logged_in_cookie(running, 1)
        async with httpx.AsyncClient(base_url=running.url, cookies=cookies) as user:
            assert_unavailable(await user.get('/account/info'))
            assert_unavailable(await user.post('/account/modify', json={'intro': 'x'}))
            assert_unavailable(await user.get('/account/logout'))


async def test_database_down_still_validates_input_first(tmp_path):
    async with serving(tmp_path, **DOWN_DB) as running:
        response = await post(running, '/account/register', username='1x',
                              password=PASSWORD)
        assert response.status_code == 400 and response.json()['code'] == 'invalid_param'


async def test_database_down_health_and_ready(tmp_path):
    async with serving(tmp_path, **DOWN_DB) as running:
        health = await running.http.get('/health')
        assert health.status_code == 200
        assert health.json() == {'code': 'ok', 'message': '', 'data': {'status': 'ok'}}
        ready = await running.http.get('/ready')
        assert ready.status_code == 503
        assert ready.json()['code'] == 'unavailable'
        assert ready.json()['message'] == \
            messages.DEPENDENCIES_DOWN.format(names='database')


async def test_redis_down(tmp_path):
    async with serving(tmp_path, **DOWN_REDIS, DB_CREATE_TABLES=True) as running:
        username = 'u' + uuid.uuid4().hex[:12]
        assert_unavailable(await post(running, '/account/register', username=username,
                                      password=PASSWORD))
        users = await running.container.users()
        assert await users.find_by('username', username) is None  # nothing was created

        hasher = running.container.hasher()
        await users.create(username, await hasher.hash(PASSWORD))
        assert_unavailable(await post(running, '/account/login', username=username,
                                      password=PASSWORD))
        assert_unavailable(await post(running, '/account/send/mobile/verify/code',
                                      type='modify', mobile='13800000000'))
        assert_unavailable(await post(running, '/account/send/email/verify/code',
                                      type='modify', email='a@example.com'))
        async with httpx.AsyncClient(base_url=running.url,
                                     cookies={'session': new_sid()}) as user:
            assert_unavailable(await user.get('/account/info'))
            assert_unavailable(await user.get('/account/logout'))


async def test_redis_down_health_and_ready(tmp_path):
    async with serving(tmp_path, **DOWN_REDIS, DB_CREATE_TABLES=True) as running:
        assert (await running.http.get('/health')).status_code == 200
        async with httpx.AsyncClient(base_url=running.url,
                                     cookies={'session': new_sid()}) as user:
            assert (await user.get('/health')).status_code == 200  # reads no session
        ready = await running.http.get('/ready')
        assert ready.status_code == 503
        assert ready.json()['message'] == messages.DEPENDENCIES_DOWN.format(names='cache')


async def test_both_down(tmp_path):
    async with serving(tmp_path, **DOWN_DB, **DOWN_REDIS) as running:
        assert (await running.http.get('/health')).status_code == 200
        ready = await running.http.get('/ready')
        assert ready.status_code == 503
        assert ready.json()['message'] == \
            messages.DEPENDENCIES_DOWN.format(names='database, cache')
        assert_unavailable(await post(running, '/account/login', username='alice',
                                      password=PASSWORD))
