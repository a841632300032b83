"""Two real server processes sharing MariaDB and Redis: a notice caused on one
reaches a socket held by the other."""
import asyncio

import httpx
import pytest

from tests.support.servers import MYSQL_HOST, REDIS_URI
from tests.support import call, register
from tests.e2e.test_message_ws import assert_message_shape
from tests.support.ws_support import connect, receive

pytestmark = pytest.mark.skipif(not (MYSQL_HOST and REDIS_URI),
                                reason='needs MariaDB and Redis shared by two processes')


async def test_notice_published_on_one_process_reaches_a_socket_on_the_other(two_servers):
    server_a, server_b = two_servers
    async with httpx.AsyncClient(base_url=server_a.url) as alice, \
            httpx.AsyncClient(base_url=server_b.url) as bob:
        await register(alice, 'alice')
        bob_user = await register(bob, 'bob')
        async with connect(server_b, bob) as bob_socket:
            assert 'bob' in (await receive(bob_socket))['content']
            await asyncio.sleep(0.2)  # both processes subscribed before publishing
            body = await call(alice, 'POST', '/user/follow', followingId=bob_user['id'])
            assert body['code'] == 'ok'
            notice = await receive(bob_socket)
            assert_message_shape(notice, 'notify')
            assert 'alice' in notice['content']


async def test_a_session_made_on_one_process_is_valid_on_the_other(two_servers):
    server_a, server_b = two_servers
    async with httpx.AsyncClient(base_url=server_a.url) as on_a:
        user = await register(on_a, 'carol')
        async with httpx.AsyncClient(base_url=server_b.url, cookies=on_a.cookies) as on_b:
            body = await call(on_b, 'GET', '/account/info')
            assert body['data']['user']['id'] == user['id']


async def test_sigterm_stops_a_server_cleanly(two_servers):
    two_servers[0].terminate()
    assert await two_servers[0].wait_exit(20) == 0
