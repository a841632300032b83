from orjson import dumps
from sanic import Blueprint, Request

from ..guards import current_user_id

message = Blueprint('message', url_prefix='/message')


def _text(frame: dict) -> str:
    return dumps(frame).decode()


@message.websocket('/ws')
async def socket(request: Request, ws):
    """Welcome, echo every text frame, and carry the user's notify messages
    (delivered by the SocketHub from the broker) until the client closes."""
    messages = request.app.ctx.services.message_service
    user = await request.app.ctx.services.account_service.profile(current_user_id(request))
    if user is None:
        await ws.send(_text(messages.not_logged_in()))
        await ws.close()
        return
    hub = request.app.ctx.sockets
    hub.add(user['id'], ws)
    try:
        await ws.send(_text(messages.welcome(user['username'])))
        async for frame in ws:
            if isinstance(frame, str):
                await ws.send(_text(messages.received(frame)))
    finally:
        hub.remove(user['id'], ws)
