"""Connections: header, body and keep-alive timeouts from config (a dribbled header
is a 408, not a connection held forever), and a connection cap below the open-files
limit so that /health and logged-in users are answered while idle connections are
held."""
import asyncio
import time

import httpx
import pytest

from tests.support.servers import test_config as make_config
from tests.support.faults import ServerProcess, figure
from tests.support.raw_http import closed, envelope, open_raw, read_response
from tests.support import PASSWORD, unique_name


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, HEADER_TIMEOUT=1, BODY_TIMEOUT=1, KEEP_ALIVE_TIMEOUT=1)


async def test_a_connection_dribbling_its_headers_gets_a_408_and_is_closed(server):
    reader, writer = await open_raw(server.url)
    writer.write(b'GET /health HTTP/1.1\r\n')
    started = time.monotonic()
    status = None
    for number in range(20):  # one header line every 0.3 s: 6 s if never cut
        try:
            writer.write(b'X-Dribble-%d: 1\r\n' % number)
            await writer.drain()
        except ConnectionError:
            break
        try:
            status, _, body = await read_response(reader, timeout=0.3)
            break
        except asyncio.TimeoutError:
            continue
    assert status == 408, status
    assert envelope(body)['message'].startswith('The request came too slowly')
    assert time.monotonic() - started < 3
    assert await closed(reader)


async def test_a_stalled_body_gets_a_408(server):
    reader, writer = await open_raw(server.url)
    writer.write(b'POST /account/login HTTP/1.1\r\nHost: t\r\n'
                 b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user')
    status, _, body = await read_response(reader, timeout=5)
    assert status == 408 and envelope(body)['code'] == 'invalid_param'


async def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(server):
    reader, writer = await open_raw(server.url)
    writer.write(b'GET /health HTTP/1.1\r\nHost: t\r\n\r\n')
    status, _, _ = await read_response(reader)
    assert status == 200
    assert await closed(reader, timeout=4)


async def test_idle_connections_under_a_low_open_files_limit_leave_room(tmp_path):
    """256 open files: the cap is 128 connections; 300 idle ones are held open
    against it, and /health and a logged-in user are still answered."""
    config = make_config(tmp_path, DB_CREATE_TABLES=True, KEEP_ALIVE_TIMEOUT=60)
    server = ServerProcess(config, str(tmp_path / 'server.log'), nofile=256)
    held = []
    try:
        await server.wait_ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as user:
            name = unique_name()
            await user.post('/account/register', json={'username': name,
                                                       'password': PASSWORD})
            for _ in range(300):
                held.append(await open_raw(server.url))
            await asyncio.sleep(0.2)
            for _ in range(10):
                async with httpx.AsyncClient(base_url=server.url, timeout=5) as probe:
                    assert (await probe.get('/health')).status_code == 200
            figure('idle connections', nofile=256, held=len(held), health_ok=10)
            info = await user.get('/account/info')
            assert info.json()['data']['user']['username'] == name
        assert server.process.poll() is None, server.log()
    finally:
        for _, writer in held:
            writer.close()
        server.kill()
