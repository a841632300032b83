"""Two real server processes sharing MariaDB and Redis: a notice caused on one
reaches a socket held by the other."""
import asyncio
import os
import socket
import subprocess
import sys

import httpx
import pytest

from .conftest import MYSQL_HOST, REDIS_URI
from .support import call, register
from .test_message_ws import assert_message_shape
from .ws_support import connect, receive

pytestmark = pytest.mark.skipif(not (MYSQL_HOST and REDIS_URI),
                                reason='needs MariaDB and Redis shared by two processes')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python -m weiguan.web.app`, as users run it, on its own port."""

    def __init__(self, config: dict):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
        env.update({f'WG_{key}': str(config[key]) for key in (
            'MYSQL_HOST', 'MYSQL_PORT', 'MYSQL_DB', 'MYSQL_USER', 'MYSQL_PASSWORD',
            'REDIS_URI', 'DATA_PATH')})
        env.update(WG_PORT=str(self.port), WG_ACCESS_LOG='false')
        self.process = subprocess.Popen([sys.executable, '-m', 'weiguan.web.app'], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def wait_ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(100):
                try:
                    if (await client.get('/ready')).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f'server on {self.port} did not start: '
                             f'{self.process.stderr.read1().decode(errors="replace")}')

    def stop(self) -> int:
        self.process.terminate()
        self.process.wait(timeout=20)
        return self.process.returncode


@pytest.fixture
async def two_servers(config, container):
    servers = [ServerProcess(config), ServerProcess(config)]
    try:
        await asyncio.gather(*(s.wait_ready() for s in servers))
        yield servers
    finally:
        for server in servers:
            server.stop()


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
    assert two_servers[0].stop() == 0
