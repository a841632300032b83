"""The broker that carries user messages between server processes: Redis pub/sub
when configured, an in-process fan-out on the embedded default."""
import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

Handler = Callable[[int, dict], Awaitable[None]]


class MemoryBroker:
    def __init__(self):
        self._handlers: list[Handler] = []

    async def publish(self, user_id: int, message: dict) -> None:
        for handler in list(self._handlers):
            await handler(user_id, message)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Deliver every published message to `handler`; returns the unsubscribe."""
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    async def close(self) -> None:
        self._handlers.clear()
