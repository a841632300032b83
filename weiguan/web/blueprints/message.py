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
                                               'follow (Message of API.md).'}},
            description='Open it with the session cookie. Logged out: one `normal` '
                        'message of level `error`, then the server closes. A GET that '
                        'is not a WebSocket handshake answers 400.')
async def socket(request: Request, ws):
    """Welcome, echo every text frame, and carry the user's notify messages
    (delivered by the SocketHub from the broker) until the client closes."""
    messages = request.app.ctx.services.message_service
    with websocket_span(request, 'WebSocket connect'):
        user = await _welcome(request, ws, messages)
    if user is None:
        return
    hub = request.app.ctx.sockets
    try:
        async for frame in ws:
            if isinstance(frame, str):
                await ws.send(_text(messages.received(frame)))
    finally:
        hub.remove(user['id'], ws)


async def _welcome(request: Request, ws, messages) -> dict | None:
    """The logged-in user, welcomed and added to the hub; None when the socket was
    refused (and closed)."""
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
    request.app.ctx.sockets.add(user['id'], ws)
    try:
        await ws.send(_text(messages.welcome(user['username'])))
    except BaseException:
        request.app.ctx.sockets.remove(user['id'], ws)
        raise
    return user
