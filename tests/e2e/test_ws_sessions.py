"""An open WebSocket is a session in use: when the session ends (a password change
elsewhere, a disable), its socket is told it is logged out and closed; the socket
of the session that changed the password stays."""
import asyncio

import pytest
import websockets

from tests.support import PASSWORD, call, register
from tests.support.servers import test_config as make_config
from tests.support.ws_support import connect, receive

CHECK_INTERVAL = 0.05


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, WS_SESSION_CHECK_INTERVAL=CHECK_INTERVAL)


async def closed_after_logout_message(ws) -> bool:
    message = await receive(ws)
    assert message['type'] == 'normal' and message['level'] == 'error', message
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    return True


async def test_a_password_change_closes_the_other_sessions_sockets(server, make_client):
    owner, other_device = make_client(), make_client()
    await register(owner, 'alice')
    login = await call(other_device, 'POST', '/account/login', username='alice',
                       password=PASSWORD)
    assert login['code'] == 'ok'
    async with connect(server, owner) as kept, connect(server, other_device) as ended:
        await receive(kept)
        await receive(ended)  # the welcomes
        changed = await call(owner, 'POST', '/account/modify', password='newpass99')
        assert changed['code'] == 'ok'
        assert await closed_after_logout_message(ended)
        await kept.send('still here')  # the session that changed it goes on
        assert (await receive(kept))['content'] == 'Message received: still here'


async def test_disabling_a_user_closes_their_sockets(server, client):
    await register(client, 'bob')
    async with connect(server, client) as ws:
        await receive(ws)
        service = server.container.account_service()  # built at start
        assert await service.set_disabled('bob', True) == 1
        assert await closed_after_logout_message(ws)


async def test_logging_out_closes_that_sessions_socket(server, client):
    await register(client, 'carol')
    async with connect(server, client) as ws:
        await receive(ws)
        assert (await call(client, 'GET', '/account/logout'))['code'] == 'ok'
        assert await closed_after_logout_message(ws)
