"""The WebSocket connections this server process holds, by user. A user may hold
several (phone and tablet); each gets every message addressed to the user."""
import logging
from collections import defaultdict

from orjson import dumps

log = logging.getLogger(__name__)


class SocketHub:
    def __init__(self):
        self._sockets: dict[int, set] = defaultdict(set)

    def add(self, user_id: int, ws) -> None:
        self._sockets[user_id].add(ws)

    def remove(self, user_id: int, ws) -> None:
        sockets = self._sockets.get(user_id)
        if sockets is None:
            return
        sockets.discard(ws)
        if not sockets:
            del self._sockets[user_id]  # closed sockets are forgotten: no leak

    def count(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    async def deliver(self, user_id: int, message: dict) -> None:
        text = dumps(message).decode()
        for ws in list(self._sockets.get(user_id, ())):
            try:
                await ws.send(text)
            except Exception as error:  # closing or closed: forget it
                log.info('dropping socket of user %s: %s', user_id, error)
                self.remove(user_id, ws)
