"""One contract per port besides the repositories and the key-value store
(tests/integration/test_repository_contracts.py, tests/integration/test_kv_store.py): the broker, the code
sender and the job locks, each run against every implementation the pass has: the
in-process one or the fake always, the Redis one when WG_TEST_REDIS_URI is set."""
import asyncio
import socket

import pytest

from tests.support.fakes_accounts import FakeCodeSender
from weiguan.dependencies.kv import create_redis
from weiguan.dependencies.locks import NoJobLocks, RedisJobLocks
from weiguan.dependencies.pubsub import MemoryBroker, RedisBroker
from weiguan.dependencies.senders import CodeSenders, CountedSender, WebhookSmsSender
from weiguan.entities.errors import Unavailable

from tests.support.servers import REDIS_URI

IN_PROCESS_AND_REDIS = ['in-process'] + (['redis'] if REDIS_URI else [])


# the broker

@pytest.fixture(params=IN_PROCESS_AND_REDIS)
async def broker(request):
    if request.param == 'in-process':
        broker = MemoryBroker()
        yield broker
        await broker.close()
        return
    client = create_redis(REDIS_URI, socket_timeout=None)
    broker = RedisBroker(client, channel='weiguan:test:contract')
    yield broker
    await broker.close()
    await client.aclose()


async def _subscribed(broker) -> None:
    if isinstance(broker, RedisBroker):
        await asyncio.wait_for(broker.subscribed.wait(), 5)


async def test_broker_delivers_to_every_subscriber_until_unsubscribed(broker):
    first, second = asyncio.Queue(), asyncio.Queue()

    async def to_first(user_id, message):
        await first.put((user_id, message))

    async def to_second(user_id, message):
        await second.put((user_id, message))
    unsubscribe_first = broker.subscribe(to_first)
    broker.subscribe(to_second)
    await _subscribed(broker)
    await broker.publish(7, {'type': 'notify', 'title': '微观'})
    for inbox in (first, second):
        assert await asyncio.wait_for(inbox.get(), 5) == (7, {'type': 'notify',
                                                              'title': '微观'})
    unsubscribe_first()
    await broker.publish(8, {'n': 2})
    assert await asyncio.wait_for(second.get(), 5) == (8, {'n': 2})
    assert first.empty()


# the code sender

def _refused_url() -> str:
    """A local port that nothing listens on: a delivery there fails at once."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return f'http://127.0.0.1:{sock.getsockname()[1]}/sms'


class Sender:
    """A code sender delivering `mobile` only, and a way to make that channel fail."""

    def __init__(self, sender, fail):
        self.sender = sender
        self.fail = fail


@pytest.fixture(params=['fake', 'adapter'])
async def sender(request):
    if request.param == 'fake':
        fake = FakeCodeSender(channels=('mobile',))
        yield Sender(fake, lambda: fake.failing.add('mobile'))
        return
    counted: list[str] = []
    webhook = WebhookSmsSender(_refused_url(), timeout=5)

    class Delivered:  # the webhook's place until the channel is made to fail
        async def send(self, target, code, text):
            counted.append(target)
    senders = CodeSenders(mobile=Delivered())
    adapter = CountedSender(senders, lambda channel: None)

    def fail():
        senders.by_channel['mobile'] = webhook
    yield Sender(adapter, fail)
    await webhook.close()


async def test_a_sender_says_which_channels_it_delivers(sender):
    assert sender.sender.delivers('mobile') is True
    assert sender.sender.delivers('email') is False


async def test_a_failed_delivery_is_unavailable(sender):
    await sender.sender.send('mobile', '+8613800000000', '123456', 'code 123456')
    sender.fail()
    with pytest.raises(Unavailable):
        await sender.sender.send('mobile', '+8613800000000', '123456', 'code 123456')


# the job locks

@pytest.fixture(params=IN_PROCESS_AND_REDIS)
async def locks(request):
    if request.param == 'in-process':
        yield NoJobLocks()
        return
    client = create_redis(REDIS_URI)
    await client.delete('weiguan:test:lock:job')
    yield RedisJobLocks(client, prefix='weiguan:test:lock:')
    await client.delete('weiguan:test:lock:job')
    await client.aclose()


async def test_a_free_lock_is_held_then_released(locks):
    async with locks.hold('job', ttl=30) as acquired:
        assert acquired is True
    async with locks.hold('job', ttl=30) as acquired:  # released at the block's end
        assert acquired is True
