"""The server's connections: timeouts that a slow client cannot stretch, and a cap
below the open-files limit.

Sanic restarts its request timeout with every byte received, so a client sending
one header line every few seconds held its connection forever (slowloris). Here:

- HEADER_TIMEOUT: the request line and headers must all arrive within this many
  seconds of their first byte, else 408 and the connection is closed;
- BODY_TIMEOUT: a body may pause at most this long between two reads (a slow but
  moving mobile upload goes on), else 408;
- KEEP_ALIVE_TIMEOUT: a connection with no request in progress (new or between
  requests) is closed after this many idle seconds.

MAX_CONNECTIONS caps the connections of one server process; 0 derives it from the
open-files limit (RLIMIT_NOFILE) minus FD_RESERVE for the database pools, Redis,
uploads and logs. At the cap, a new connection makes room by closing an idle one
(no request in progress): first the oldest that never sent a byte, else the
longest idle keep-alive one; so held idle connections cannot lock out /health or
logged-in users. When every connection is busy the new one is closed.
Without the cap, accept() failed with EMFILE once the process ran out of files,
and nothing answered."""
import asyncio
import logging
import resource
from time import monotonic

from sanic import Request
from sanic.exceptions import BadRequest, BadURL, RequestTimeout
from sanic.http import Stage
from sanic.server.protocols.websocket_protocol import WebSocketProtocol
from sanic.server.websockets.impl import WebsocketImplProtocol

from ..entities import messages

log = logging.getLogger(__name__)
FD_RESERVE = 128


class CheckedRequest(Request):
    """A request target that is not a path (`CONNECT host:443`) is a 400 naming
    the problem. Sanic refused it, then built the stand-in request for its error
    answer from the same target, failed again outside any handler, and left a
    traceback and no answer at all."""

    def __init__(self, *args, **kwargs):
        try:
            super().__init__(*args, **kwargs)
        except BadURL:
            if kwargs.get('method') != 'NONE':
                raise BadRequest(messages.REQUEST_TARGET_INVALID) from None
            # the stand-in Sanic builds to answer that error, from the same target
            super().__init__(*args, **{**kwargs, 'url_bytes': b'/'})


def connection_cap(setting: int) -> int:
    if setting > 0:
        return setting
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 65536
    return max(16, soft - FD_RESERVE)


def configure_connections(app, config: dict) -> None:
    app.config.REQUEST_TIMEOUT = config['HEADER_TIMEOUT']
    app.config.KEEP_ALIVE_TIMEOUT = config['KEEP_ALIVE_TIMEOUT']
    app.ctx.body_timeout = config['BODY_TIMEOUT']
    app.ctx.max_connections = connection_cap(config['MAX_CONNECTIONS'])


def _idle(connection) -> bool:
    http = getattr(connection, '_http', None)
    return getattr(connection, 'websocket', None) is None and (
        http is None or http.stage is Stage.IDLE)


class GuardedProtocol(WebSocketProtocol):
    """Sanic's HTTP + WebSocket protocol with the timeouts and the cap above."""
    __slots__ = ('_last_byte', '_spoke')

    def connection_made(self, transport):
        self._last_byte, self._spoke = monotonic(), False
        full = len(self.connections) >= self.app.ctx.max_connections
        if full:
            idle = [c for c in self.connections if _idle(c)]
            if idle:
                min(idle, key=lambda c: (getattr(c, '_spoke', True), c._time)).close()
        super().connection_made(transport)
        if full and not idle:
            log.warning('connection refused: %d connections, all busy',
                        len(self.connections) - 1)
            transport.abort()

    def data_received(self, data: bytes):
        http, started = getattr(self, '_http', None), self._time
        super().data_received(data)
        self._last_byte, self._spoke = monotonic(), True
        if http is not None and http.stage is Stage.REQUEST:
            self._time = started  # the header timeout counts from the first byte

    async def websocket_handshake(self, request, subprotocols=None):
        ws = await super().websocket_handshake(request, subprotocols)
        ws.__class__ = CheckedWebsocket  # built by Sanic: only a method differs
        return ws

    def check_timeouts(self):
        http = getattr(self, '_http', None)
        if (self._task and http is not None and http.stage is Stage.HANDLER
                and not http.upgrade_websocket and http.request_body
                and monotonic() - self._last_byte > self.app.ctx.body_timeout):
            http.exception = RequestTimeout('Request body timeout')
            self._task.cancel()
            return
        super().check_timeouts()


class CheckedWebsocket(WebsocketImplProtocol):
    """Sanic's WebSocket with two fixes:

    - text that is not UTF-8 fails the connection at once with 1007, RFC 6455's
      rule (Sanic's decoder raised in a background task, leaving the socket hanging
      until the ping timeout, then 1011);
    - incoming data has backpressure: Sanic starts one task per chunk received,
      each holding its frames until the handler reads them, and never stops
      reading, so a client writing faster than its handler reads made the server
      buffer without bound. Past IN_FLIGHT pending chunks, reading pauses until
      the handler catches up."""

    IN_FLIGHT = 8

    def data_received(self, data):
        self.ws_proto.receive_data(data)
        data_to_send = self.ws_proto.data_to_send()
        events = self.ws_proto.events_received()
        if not data_to_send and not events:
            return
        pending = self.__dict__.setdefault('_pending', set())
        task = asyncio.get_running_loop().create_task(
            self.async_data_received(data_to_send, events))
        pending.add(task)
        task.add_done_callback(self._chunk_done)
        transport = getattr(self.io_proto, 'transport', None)
        if len(pending) > self.IN_FLIGHT and transport is not None:
            transport.pause_reading()

    def connection_lost(self, exc):
        for task in self.__dict__.pop('_pending', ()):  # blocked on a reader now gone
            task.cancel()
        super().connection_lost(exc)

    def _chunk_done(self, task) -> None:
        pending = self.__dict__.get('_pending', set())
        pending.discard(task)
        transport = getattr(self.io_proto, 'transport', None)
        if len(pending) <= self.IN_FLIGHT // 2 and transport is not None \
                and not transport.is_closing():
            transport.resume_reading()

    async def process_events(self, events) -> None:
        try:
            await super().process_events(events)
        except UnicodeDecodeError:
            log.info('WebSocket text frame not UTF-8: closing with 1007')
            self.fail_connection(1007, 'invalid UTF-8')
