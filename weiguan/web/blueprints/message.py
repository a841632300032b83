from orjson import dumps
from sanic import Blueprint, Request

from ...entities.errors import Unavailable
from ..guards import current_user_id
from ..observe import websocket_span
from ..openapi import documented

message = Blueprint('message', url_prefix='/message')


def _text(frame: dict) -> str:
    return dumps(frame).decode()


@message.websocket('/ws')
@documented('The message WebSocket (a GET upgraded to a WebSocket).', errors=(400,),
            responses={'101': {'description': 'Switching Protocols: JSON text frames '
                                               'follow (Message, in docs/api.md).'}},
            description='Open it with the session cookie. Logged out: one `normal` '
                        'message of level `error`, then the server closes. A GET that '
                        'is not a WebSocket handshake answers 400.')
async def socket(request: Request, ws):
    """Welcome, echo every text frame, and carry the user's notify messages
    (delivered by the SocketHub from the broker) until the client closes."""
    messages = request.app.ctx.services.message_service
    with websocket_span(request, 'WebSocket connect'):
        welcomed = await _welcome(request, ws, messages)
    if welcomed is None:
        return
    user_id, channel = welcomed
    try:
        async for frame in ws:
            if isinstance(frame, str) and not channel.offer(_text(messages.received(frame))):
                break  # too far behind: closed
    finally:
        request.app.ctx.sockets.remove(user_id, channel)


async def _welcome(request: Request, ws, messages):
    """(user id, channel): the logged-in user, welcomed and added to the hub; None
    when the socket was refused (and closed)."""
    try:
        user = await request.app.ctx.services.account_service.profile(
            current_user_id(request))
    except Unavailable:  # the database is down: say so, as an HTTP request would
        await ws.send(_text(messages.unavailable()))
        await ws.close(code=1013)  # try again later
        return None
    if user is None:
        await ws.send(_text(messages.not_logged_in()))
        await ws.close()
        return None
    hub = request.app.ctx.sockets
    channel = hub.add(user['id'], ws)
    if channel is None:
        await ws.send(_text(messages.too_many_sockets(hub.max_per_user)))
        await ws.close(code=1008)  # policy: sockets per user are capped
        return None
    channel.offer(_text(messages.welcome(user['username'])))
    return user['id'], channel
