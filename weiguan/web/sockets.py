"""The WebSocket connections this server process holds, by user. A user may hold
several (phone and tablet), at most `max_per_user`; each gets every message
addressed to the user.

Every socket sends through its own bounded queue, drained by one task: a message
is offered, never awaited, so a client that stops reading cannot stall the broker's
delivery to everyone else, nor make the server buffer without bound. A socket
whose queue is full, or whose one send waits longer than `send_timeout` (the
transport's buffer is full: the client does not read), is closed with 1008 and
aborted, which drops what it had buffered. The open sockets are a gauge of the
metrics; each delivered notice is a span when tracing.

What a dropped slow client made the process hold (its unread frames: thousands of
4 KB buffers) goes back to glibc's heap when it is freed, but glibc keeps those
pages, so RSS would stay at its high-water mark for good. Two seconds after a socket
goes (its transport aborted and its buffers freed by then) the hub asks glibc to
return its free pages (`malloc_trim`), at most once per RELEASE_AFTER."""
import asyncio
import ctypes
import logging
from collections import defaultdict
from contextlib import nullcontext

from opentelemetry.trace import SpanKind
from orjson import dumps

from ..dependencies.metrics import Metrics
from ..dependencies.tracing import Tracing

log = logging.getLogger(__name__)
TOO_SLOW = 'too slow: messages were not read'
ABORT_AFTER = 1.0  # seconds the close frame may take before the socket is aborted
RELEASE_AFTER = ABORT_AFTER + 1.0  # the abort done and its buffers freed


def _malloc_trim():
    """glibc's malloc_trim, or None under a C library without it."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


class Channel:
    def __init__(self, ws, queue_size: int, send_timeout: float):
        self.ws = ws
        self.queue: asyncio.Queue = asyncio.Queue(queue_size)
        self.send_timeout = send_timeout
        self.closed = False
        self.pump = asyncio.get_running_loop().create_task(self._pump())

    def offer(self, text: str) -> bool:
        """Queue a message; False (and the socket closed) when it is too far behind."""
        if self.closed:
            return False
        try:
            self.queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            self.fail()
            return False

    async def _pump(self) -> None:
        while True:
            text = await self.queue.get()
            try:
                await asyncio.wait_for(self.ws.send(text), self.send_timeout)
            except asyncio.TimeoutError:
                self.fail()
                return
            except Exception as error:  # closing or closed
                log.info('socket send stopped: %s', error)
                return

    def fail(self) -> None:
        if self.closed:
            return
        self.closed = True
        log.info('closing a WebSocket that falls behind (1008)')
        while not self.queue.empty():
            self.queue.get_nowait()
        self.ws.fail_connection(1008, TOO_SLOW)
        transport = getattr(self.ws.io_proto, 'transport', None)
        if transport is not None:
            asyncio.get_running_loop().call_later(ABORT_AFTER, transport.abort)

    def stop(self) -> None:
        self.pump.cancel()


class SocketHub:
    def __init__(self, max_per_user: int = 10, queue_size: int = 64,
                 send_timeout: float = 10, metrics: Metrics | None = None,
                 tracing: Tracing | None = None):
        self._sockets: dict[int, set[Channel]] = defaultdict(set)
        self._gauge = metrics.websockets if metrics is not None else None
        self._tracing = tracing
        self._trim = _malloc_trim()
        self._release_scheduled = False
        self.max_per_user = max_per_user
        self.queue_size = queue_size
        self.send_timeout = send_timeout

    def add(self, user_id: int, ws) -> Channel | None:
        """The socket's channel; None when the user holds `max_per_user` already."""
        if len(self._sockets.get(user_id, ())) >= self.max_per_user:
            return None
        channel = Channel(ws, self.queue_size, self.send_timeout)
        self._sockets[user_id].add(channel)
        if self._gauge is not None:
            self._gauge.inc()
        return channel

    def remove(self, user_id: int, channel: Channel) -> None:
        channel.stop()
        self._release_later()
        sockets = self._sockets.get(user_id)
        if sockets is None:
            return
        if channel in sockets and self._gauge is not None:
            self._gauge.dec()
        sockets.discard(channel)
        if not sockets:
            del self._sockets[user_id]  # closed sockets are forgotten: no leak

    def _release_later(self) -> None:
        if self._trim is None or self._release_scheduled:
            return
        self._release_scheduled = True
        asyncio.get_running_loop().call_later(RELEASE_AFTER, self._release)

    def _release(self) -> None:
        self._release_scheduled = False
        self._trim(0)

    def count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    async def deliver(self, user_id: int, message: dict) -> None:
        channels = list(self._sockets.get(user_id, ()))
        if not channels:
            return
        with (nullcontext() if self._tracing is None else self._tracing.span(
                'WebSocket notice', kind=SpanKind.PRODUCER,
                attributes={'weiguan.user_id': user_id, 'weiguan.sockets': len(channels),
                            'weiguan.message_type': message.get('type', '')})):
            text = dumps(message).decode()
            for channel in channels:
                channel.offer(text)
