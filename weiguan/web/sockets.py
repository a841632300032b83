"""The WebSocket connections this server process holds, by user. A user may hold
several (phone and tablet); each gets every message addressed to the user. The open
sockets are a gauge of the metrics; each delivered notice is a span when tracing."""
import logging
from collections import defaultdict
from contextlib import nullcontext

from opentelemetry.trace import SpanKind
from orjson import dumps

from ..dependencies.metrics import Metrics
from ..dependencies.tracing import Tracing

log = logging.getLogger(__name__)


class SocketHub:
    def __init__(self, metrics: Metrics | None = None, tracing: Tracing | None = None):
        self._sockets: dict[int, set] = defaultdict(set)
        self._gauge = metrics.websockets if metrics is not None else None
        self._tracing = tracing

    def add(self, user_id: int, ws) -> None:
        sockets = self._sockets[user_id]
        if ws not in sockets and self._gauge is not None:
            self._gauge.inc()
        sockets.add(ws)

    def remove(self, user_id: int, ws) -> None:
        sockets = self._sockets.get(user_id)
        if sockets is None:
            return
        if ws in sockets and self._gauge is not None:
            self._gauge.dec()
        sockets.discard(ws)
        if not sockets:
            del self._sockets[user_id]  # closed sockets are forgotten: no leak

    def count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    async def deliver(self, user_id: int, message: dict) -> None:
        sockets = list(self._sockets.get(user_id, ()))
        if not sockets:
            return
        with (nullcontext() if self._tracing is None else self._tracing.span(
                'WebSocket notice', kind=SpanKind.PRODUCER,
                attributes={'weiguan.user_id': user_id, 'weiguan.sockets': len(sockets),
                            'weiguan.message_type': message.get('type', '')})):
            text = dumps(message).decode()
            for ws in sockets:
                try:
                    await ws.send(text)
                except Exception as error:  # closing or closed: forget it
                    log.info('dropping socket of user %s: %s', user_id, error)
                    self.remove(user_id, ws)
