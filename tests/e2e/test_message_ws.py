import asyncio
import uuid
from datetime import datetime

import pytest
import websockets

from tests.support import call, register
from tests.support.ws_support import connect, receive


def assert_message_shape(message: dict, type: str) -> None:
    assert uuid.UUID(message['id'])
    assert message['type'] == type
    assert message['level'] in {'info', 'success', 'warning', 'error'}
    assert datetime.fromisoformat(message['createdAt']).utcoffset() is not None
    assert isinstance(message['content'], str) and message['content']
    assert ('title' in message) == (type == 'notify')


async def test_not_logged_in_gets_one_error_then_close(server):
    async with connect(server) as ws:
        message = await receive(ws)
        assert message['type'] == 'normal' and message['level'] == 'error'
        assert_message_shape(message, 'normal')
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)


async def test_welcome_and_echo(server, client):
    await register(client, 'alice')
    async with connect(server, client) as ws:
        welcome = await receive(ws)
        assert_message_shape(welcome, 'normal')
        assert 'alice' in welcome['content']
        await ws.send('hello there')
        echo = await receive(ws)
        assert echo['content'] == 'Message received: hello there'
        assert_message_shape(echo, 'normal')


async def test_welcome_goes_only_to_the_new_socket(server, make_client):
    alice, bob = make_client(), make_client()
    await register(alice, 'alice')
    await register(bob, 'bob')
    async with connect(server, alice) as alice_ws:
        await receive(alice_ws)
        async with connect(server, bob) as bob_ws:
            await receive(bob_ws)
            with pytest.raises(asyncio.TimeoutError):
                await receive(alice_ws, timeout=0.3)


async def test_every_socket_of_a_user_gets_notices_and_closed_ones_are_forgotten(
        server, make_client):
    alice, bob = make_client(), make_client()
    await register(alice, 'alice')
    bob_user = await register(bob, 'bob')
    hub = server.app.ctx.sockets
    async with connect(server, bob) as phone, connect(server, bob) as tablet:
        await receive(phone)
        await receive(tablet)
        assert hub.count() == 2
        body = await call(alice, 'POST', '/user/follow', followingId=bob_user['id'])
        assert body['code'] == 'ok'
        for ws in (phone, tablet):
            notice = await receive(ws)
            assert_message_shape(notice, 'notify')
            assert 'alice' in notice['title'] + notice['content']
        await tablet.close()
        await call(alice, 'POST', '/user/unfollow', followingId=bob_user['id'])
        await call(alice, 'POST', '/user/follow', followingId=bob_user['id'])
        assert 'alice' in (await receive(phone))['content']
    for _ in range(50):
        if hub.count() == 0:
            break
        await asyncio.sleep(0.05)
    assert hub.count() == 0


async def test_liking_a_post_notifies_its_author_only(server, make_client):
    alice, bob = make_client(), make_client()
    await register(alice, 'alice')
    await register(bob, 'bob')
    post = (await call(bob, 'POST', '/post/publish', type='text', text='hello'))['data']['post']
    async with connect(server, bob) as bob_ws, connect(server, alice) as alice_ws:
        await receive(bob_ws)
        await receive(alice_ws)
        assert (await call(alice, 'POST', '/post/like', postId=post['id']))['code'] == 'ok'
        notice = await receive(bob_ws)
        assert_message_shape(notice, 'notify')
        assert 'alice' in notice['content']
        with pytest.raises(asyncio.TimeoutError):
            await receive(alice_ws, timeout=0.3)
        # liking twice is a duplicate and tells nobody anything
        assert (await call(alice, 'POST', '/post/like', postId=post['id']))['code'] == 'duplicate'
        with pytest.raises(asyncio.TimeoutError):
            await receive(bob_ws, timeout=0.3)
