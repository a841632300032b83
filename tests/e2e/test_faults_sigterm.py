"""SIGTERM in the middle of a load, as a deploy or `docker stop` sends it.

The server runs as users run it (`python -m weiguan.web.app`, a process of its own)
on the backends of the pass. Registrations (argon2 makes each one cost ~0.1 s of CPU)
and a registration whose body is still arriving are in flight, and a WebSocket is
open, when SIGTERM arrives. Every request the server had accepted completes with its
proper answer, the socket is closed with a close frame rather than dropped, new
connections are refused, and the process exits 0 well within the graceful-shutdown
timeout.

Figures: `pytest -s tests/e2e/test_faults_sigterm.py` (quoted in docs/reliability.md).
"""
import asyncio
import time

import httpx
import sqlalchemy as sa
import websockets

from weiguan.dependencies import tables

from tests.support.faults import Recorder, ServerProcess, figure
from tests.support import PASSWORD, provided

LOAD = 30               # registrations sent at once
SIGTERM_AFTER = 0.3     # seconds after they were sent
GRACEFUL_TIMEOUT = 15   # Sanic's GRACEFUL_SHUTDOWN_TIMEOUT (WG_GRACEFUL_SHUTDOWN_TIMEOUT)


async def slow_body(username: str):
    """A JSON body sent in pieces over ~0.8 s: still arriving when SIGTERM comes."""
    body = f'{{"username": "{username}", "password": "{PASSWORD}"}}'.encode()
    for start in range(0, len(body), 8):
        yield body[start:start + 8]
        await asyncio.sleep(0.1)


async def closing(ws, since: float) -> tuple[int | None, float]:
    """The close code the server sent, and when (skipping any notice of other test
    runs sharing this Redis)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), GRACEFUL_TIMEOUT)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None, round(time.monotonic() - since, 2)


async def refuses(url: str) -> bool:
    """True when a new connection is refused (not accepted, not left hanging)."""
    async with httpx.AsyncClient(timeout=2) as http:
        try:
            await http.get(url + '/health')
        except httpx.ConnectError:
            return True
    return False


async def test_sigterm_during_load_completes_every_accepted_request(config, container,
                                                                    tmp_path):
    server = ServerProcess(config, str(tmp_path / 'server.log'))
    try:
        await server.wait_ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http, \
                httpx.AsyncClient(base_url=server.url, timeout=30, limits=httpx.Limits(
                    max_connections=LOAD + 1)) as load_http:
            body = (await http.post('/account/register', json={
                'username': 'listener', 'password': PASSWORD})).json()
            assert body['code'] == 'ok', body
            cookie = '; '.join(f'{k}={v}' for k, v in http.cookies.items())
            ws_url = server.url.replace('http://', 'ws://') + '/message/ws'
            async with websockets.connect(ws_url, additional_headers={'Cookie': cookie},
                                          open_timeout=5) as ws:
                await asyncio.wait_for(ws.recv(), 5)  # the welcome
                rec = Recorder()
                load = [asyncio.create_task(rec.call('register', load_http.post(
                    '/account/register', json={'username': f'load{i}',
                                               'password': PASSWORD})))
                        for i in range(LOAD)]
                load.append(asyncio.create_task(rec.call('register (slow body)',
                                                         load_http.post(
                    '/account/register', content=slow_body('slowbody'),
                    headers={'Content-Type': 'application/json'}))))
                await asyncio.sleep(SIGTERM_AFTER)
                sigterm_at = rec.now()
                server.terminate()
                started = time.monotonic()
                ws_close = await closing(ws, started)
                await asyncio.gather(*load)
            await asyncio.sleep(0.2)
            refused = await refuses(server.url)
        exit_code = await server.wait_exit(GRACEFUL_TIMEOUT + 5)
        exit_seconds = time.monotonic() - started
    finally:
        server.kill()
        log = server.log()
    in_flight = [o for o in rec.outcomes if o.ended > sigterm_at]
    users = tables.user
    [database] = await provided(container, 'database')
    async with database.connection() as conn:
        created = (await conn.execute(sa.select(sa.func.count()).select_from(users)
                                      .where(users.c.username != 'listener'))).scalar()
    figure('sigterm', requests=len(rec.outcomes), in_flight_at_sigterm=len(in_flight),
           **{k.replace(' ', '_'): v for k, v in rec.counts().items()},
           users_created=created, websocket_close=ws_close, new_connection_refused=refused,
           exit_code=exit_code, exit_after=f'{exit_seconds:.2f}s')
    assert rec.counts() == {'200 ok': LOAD + 1}, \
        ([o for o in rec.outcomes if o.code != 'ok'][:3], log)
    assert len(in_flight) >= LOAD // 3  # SIGTERM did land in the middle of the load
    assert created == LOAD + 1
    assert ws_close[0] in (1000, 1001)  # closed with a close frame, not dropped
    assert refused
    assert exit_code == 0, log
    assert exit_seconds < GRACEFUL_TIMEOUT
