"""The broker that carries user messages between server processes: Redis pub/sub
when configured, an in-process fan-out on the embedded default.

Every process subscribes to one channel and delivers to the sockets it holds; a
message names its user, so a process that holds none of that user's sockets drops it.
"""
import asyncio
import logging
from typing import Awaitable, Callable

import orjson
import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from ..entities.errors import Unavailable

log = logging.getLogger(__name__)

Handler = Callable[[int, dict], Awaitable[None]]
CHANNEL = 'weiguan:messages'


class _Handlers:
    def __init__(self):
        self._handlers: list[Handler] = []

    def add(self, handler: Handler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    async def dispatch(self, user_id: int, message: dict) -> None:
        for handler in list(self._handlers):
            try:
                await handler(user_id, message)
            except Exception:  # one bad socket must not stop delivery to the others
                log.exception('message handler failed')


class MemoryBroker:
    def __init__(self):
        self._handlers = _Handlers()

    async def publish(self, user_id: int, message: dict) -> None:
        await self._handlers.dispatch(user_id, message)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Deliver every published message to `handler`; returns the unsubscribe."""
        return self._handlers.add(handler)

    async def close(self) -> None:
        pass


class RedisBroker:
    """Redis pub/sub. The listener resubscribes with exponential backoff when the
    connection drops, so a Redis restart loses the messages sent meanwhile but
    never the server. The backoff stops growing at one second: notices published
    after Redis is back are lost until the listener resubscribes, so it retries often
    (one connection attempt a second while Redis is down is cheap). A publish gives
    up after `publish_timeout` seconds: the client has no socket timeout (the
    listener's reads block), and a partitioned Redis would otherwise hold the follow
    or like that publishes forever."""

    def __init__(self, client: aioredis.Redis, channel: str = CHANNEL,
                 min_backoff: float = 0.1, max_backoff: float = 1.0,
                 publish_timeout: float = 5.0):
        self.client = client
        self.channel = channel
        self.publish_timeout = publish_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._handlers = _Handlers()
        self._listener: asyncio.Task | None = None
        self._closing = False
        self.subscribed = asyncio.Event()  # set while the subscription is live

    async def publish(self, user_id: int, message: dict) -> None:
        payload = orjson.dumps({'userId': user_id, 'message': message})
        try:
            async with asyncio.timeout(self.publish_timeout):  # TimeoutError: an OSError
                await self.client.publish(self.channel, payload)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            raise Unavailable() from error

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name='redis-broker')
        return self._handlers.add(handler)

    async def _listen(self) -> None:
        backoff = self.min_backoff
        # Loops until close(): a cancel that races get_message's own timeout can come
        # out as TimeoutError, an OSError, which would otherwise read as a lost link.
        while not self._closing:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                backoff = self.min_backoff
                log.info('subscribed to %s', self.channel)
                while not self._closing:
                    # A timeout lets redis-py send its health-check PING, so a
                    # silently dead connection is noticed too.
                    item = await pubsub.get_message(timeout=1.0)
                    if item is not None:
                        await self._deliver(item['data'])
            except asyncio.CancelledError:
                raise
            except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
                self.subscribed.clear()
                if self._closing:
                    break
                log.warning('pub/sub connection lost (%s); resubscribing in %.1f s',
                            error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # the connection may already be gone
                    pass

    async def _deliver(self, data) -> None:
        try:
            payload = orjson.loads(data)
            user_id, message = int(payload['userId']), payload['message']
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning('dropped a malformed message on %s', self.channel)
            return
        await self._handlers.dispatch(user_id, message)

    async def close(self, wait: float = 3.0) -> None:
        """Stop the listener; a shutdown never waits on it for more than `wait` s."""
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()
            done, _ = await asyncio.wait({self._listener}, timeout=wait)
            if not done:
                log.warning('pub/sub listener did not stop within %.0f s', wait)
            elif not self._listener.cancelled() and self._listener.exception():
                log.warning('pub/sub listener ended with %r', self._listener.exception())
            self._listener = None
        self.subscribed.clear()
