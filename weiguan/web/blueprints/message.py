import asyncio
import logging

from dependency_injector.wiring import Provide
from orjson import dumps
from sanic import Blueprint, Request

from ...container import Container
from ...entities.errors import Unavailable
from ...services.accounts import AccountService
from ...services.messages import MessageService
from ..guards import current_user_id
from ..observe import websocket_span
from ..openapi import documented
from ..sessions import still_valid

log = logging.getLogger(__name__)
message = Blueprint('message', url_prefix='/message')
# The services, set by container.wire() at start (web/app.py).
messages: MessageService = Provide[Container.message_service]
accounts: AccountService = Provide[Container.account_service]


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
    with websocket_span(request, 'WebSocket connect'):
        welcomed = await _welcome(request, ws)
    if welcomed is None:
        return
    user_id, channel = welcomed
    watch = asyncio.create_task(_watch_session(request, ws, user_id))
    try:
        async for frame in ws:
            if isinstance(frame, str) and not channel.offer(_text(messages.received(frame))):
                break  # too far behind: closed
    finally:
        watch.cancel()
        request.app.ctx.sockets.remove(user_id, channel)


async def _watch_session(request: Request, ws, user_id: int) -> None:
    """An open socket is a session in use: when the session ends (logged out, expired, or its
    credential version no longer the user's: password changed elsewhere, disabled,
    reset from the CLI), the socket gets the logged-out message and is closed, as
    a request of that session would be refused. Checked every
    WS_SESSION_CHECK_INTERVAL seconds (two cached reads); a store that does not
    answer leaves the socket open until the next check."""
    interval = request.app.ctx.config['WS_SESSION_CHECK_INTERVAL']
    while True:
        await asyncio.sleep(interval)
        try:
            if await still_valid(request):
                continue
        except Unavailable:
            continue
        log.info('closing the WebSocket of an ended session (user %s)', user_id)
        try:
            await ws.send(_text(messages.not_logged_in()))
            await ws.close()
        except Exception as error:  # the client went meanwhile
            log.info('socket close stopped: %s', error)
        return


async def _welcome(request: Request, ws):
    """(user id, channel): the logged-in user, welcomed and added to the hub; None
    when the socket was refused (and closed)."""
    try:
        user = await accounts.profile(current_user_id(request))
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
