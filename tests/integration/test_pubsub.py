"""The message brokers: in-process, and Redis pub/sub with resubscription."""
import asyncio

import redis.asyncio

from weiguan.dependencies.kv import create_redis
from weiguan.dependencies.pubsub import MemoryBroker, RedisBroker

from tests.support.servers import REDIS_URI, requires_redis


class Inbox:
    def __init__(self):
        self.items: list[tuple[int, dict]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, user_id: int, message: dict) -> None:
        self.items.append((user_id, message))
        self.arrived.set()

    async def next(self, timeout: float = 5) -> tuple[int, dict]:
        await asyncio.wait_for(self.arrived.wait(), timeout)
        self.arrived.clear()
        return self.items[-1]


async def test_memory_broker_fans_out_until_unsubscribed():
    broker = MemoryBroker()
    first, second = Inbox(), Inbox()
    broker.subscribe(first)
    unsubscribe = broker.subscribe(second)
    await broker.publish(7, {'content': 'hi'})
    assert first.items == second.items == [(7, {'content': 'hi'})]
    unsubscribe()
    await broker.publish(8, {'content': 'again'})
    assert len(first.items) == 2 and len(second.items) == 1


async def test_memory_broker_survives_a_failing_handler():
    broker = MemoryBroker()
    inbox = Inbox()

    async def broken(user_id, message):
        raise RuntimeError('socket gone')
    broker.subscribe(broken)
    broker.subscribe(inbox)
    await broker.publish(1, {'content': 'x'})
    assert inbox.items == [(1, {'content': 'x'})]


@requires_redis
async def test_redis_broker_carries_messages_between_brokers():
    publisher_client = create_redis(REDIS_URI)
    listener_client = create_redis(REDIS_URI, socket_timeout=None)
    publisher = RedisBroker(publisher_client, channel='test:messages')
    listener = RedisBroker(listener_client, channel='test:messages')
    inbox = Inbox()
    listener.subscribe(inbox)
    try:
        await asyncio.wait_for(listener.subscribed.wait(), 5)
        await publisher.publish(3, {'content': 'across'})
        assert await inbox.next() == (3, {'content': 'across'})
    finally:
        await listener.close()
        await publisher_client.aclose()
        await listener_client.aclose()


@requires_redis
async def test_redis_broker_resubscribes_after_the_connection_is_killed():
    admin = create_redis(REDIS_URI)
    # named on every connection it opens, so that only this listener is killed
    listener_client = redis.asyncio.from_url(REDIS_URI, decode_responses=True,
                                             client_name='test-resub')
    listener = RedisBroker(listener_client, channel='test:resub', min_backoff=0.05)
    inbox = Inbox()
    listener.subscribe(inbox)
    try:
        await asyncio.wait_for(listener.subscribed.wait(), 5)
        ours = [c['id'] for c in await admin.client_list(_type='pubsub')
                if c.get('name') == 'test-resub']
        assert ours, 'the listener is subscribed'
        for client_id in ours:
            assert await admin.client_kill_filter(_id=client_id) == 1
        for _ in range(100):  # wait for the drop to be noticed and healed
            await asyncio.sleep(0.05)
            if listener.subscribed.is_set() and await admin.pubsub_numsub('test:resub') \
                    == [('test:resub', 1)]:
                break
        await admin.publish('test:resub', '{"userId": 5, "message": {"content": "back"}}')
        assert await inbox.next() == (5, {'content': 'back'})
    finally:
        await listener.close()
        await listener_client.aclose()
        await admin.aclose()
