"""The shared Redis client's automatic pipelining (dependencies/redis_batching.py) on
a real Redis: what a caller sees is what it saw command by command, while the commands
sent side by side travel together."""
import asyncio
from urllib.parse import urlsplit

import pytest
from redis import exceptions as redis_errors

from weiguan.dependencies.kv import PackedConnection, create_redis

from tests.support.faults import TcpProxy
from tests.support.servers import REDIS_URI, requires_redis

pytestmark = requires_redis


@pytest.fixture
async def client():
    redis = create_redis(REDIS_URI or '')
    await redis.flushdb()
    yield redis
    await redis.flushdb()
    await redis.aclose()


async def connections_received(client) -> int:
    return (await client.info('stats'))['total_connections_received']


async def test_commands_sent_side_by_side_share_one_connection(client):
    await client.ping()  # the client's first connection
    before = await connections_received(client)
    values = await asyncio.gather(*(client.set(f'k{i}', i) for i in range(50)))
    assert values == [True] * 50
    assert await asyncio.gather(*(client.get(f'k{i}') for i in range(50))) == \
        [str(i) for i in range(50)]
    assert await connections_received(client) == before  # one command at a time: 50


async def test_each_command_answers_its_own_result_in_the_order_sent(client):
    results = await asyncio.gather(client.set('n', 1), client.incr('n'), client.get('n'),
                                   client.mget('n', 'missing'), client.delete('n'))
    assert results == [True, 2, '2', ['2', None], 1]


async def test_mgets_side_by_side_are_one_read_and_each_answers_its_own_keys(client,
                                                                           monkeypatch):
    await client.mset({'a': '1', 'b': '2'})
    sent = []  # the commands written to Redis
    pack = PackedConnection.pack_command
    monkeypatch.setattr(PackedConnection, 'pack_command',
                        lambda self, *args: sent.append(args) or pack(self, *args))
    results = await asyncio.gather(client.mget('a', 'x'), client.mget(['b']),
                                   client.mget('a', 'b'))
    assert results == [['1', None], ['2'], ['1', '2']]
    assert sent == [('MGET', 'a', 'x', 'b', 'a', 'b')]


async def test_a_write_between_mgets_keeps_its_place(client):
    await client.set('a', '1')
    results = await asyncio.gather(client.mget('a'), client.set('a', '9'), client.mget('a'),
                                   client.mget([]), client.mget('a'))
    assert results == [['1'], True, ['9'], [], ['9']]


async def test_an_error_goes_to_its_own_command_only(client):
    await client.set('text', 'not a number')
    first, error, last = await asyncio.gather(client.set('a', 1), client.incr('text'),
                                              client.get('a'), return_exceptions=True)
    assert (first, last) == (True, '1')
    assert isinstance(error, redis_errors.ResponseError)
    assert 'not an integer' in str(error)


async def test_a_script_flushed_from_redis_is_loaded_again(client):
    script = client.register_script("return redis.call('incr', KEYS[1])")
    assert await script(keys=['s']) == 1
    await client.script_flush()
    assert await asyncio.gather(script(keys=['s']), script(keys=['s'])) == [2, 3]


async def test_a_caller_that_gives_up_leaves_the_others_answered(client):
    gives_up = asyncio.ensure_future(client.set('sent', 'yes'))
    waits = asyncio.ensure_future(client.get('sent'))
    await asyncio.sleep(0)  # both commands are in the batch, not yet sent
    gives_up.cancel()  # its deadline, say
    assert await waits == 'yes'  # answered; and the SET, once queued, was sent
    with pytest.raises(asyncio.CancelledError):
        await gives_up


async def test_without_redis_every_command_of_the_batch_fails():
    redis = create_redis('redis://127.0.0.1:1/0')  # nothing listens on port 1
    results = await asyncio.gather(redis.get('a'), redis.get('b'), return_exceptions=True)
    assert all(isinstance(r, redis_errors.ConnectionError) for r in results), results
    await redis.aclose()


async def test_a_connection_closed_by_redis_is_replaced_and_the_batch_answered(client):
    await client.set('kept', 'yes')
    own_id = await client.client_id()
    other = create_redis(REDIS_URI or '')
    assert await other.client_kill_filter(_id=own_id) == 1  # as a Redis restart would
    await other.aclose()
    assert await asyncio.gather(client.get('kept'), client.incr('n')) == ['yes', 1]


async def test_a_pipeline_answers_as_redis_py_s_and_raises_its_first_error(client):
    await client.set('text', 'not a number')
    async with client.pipeline(transaction=False) as pipe:
        pipe.set('a', 1).incr('text').hgetall('missing').evalsha('0' * 40, 0)
        first, error, empty, no_script = await pipe.execute(raise_on_error=False)
    assert (first, empty) == (True, {})  # hgetall's reply callback applied
    assert isinstance(error, redis_errors.ResponseError)
    assert isinstance(no_script, redis_errors.NoScriptError)
    async with client.pipeline(transaction=False) as pipe:
        pipe.get('a').incr('text')
        with pytest.raises(redis_errors.ResponseError, match='Command # 2'):
            await pipe.execute()


async def test_pipelines_and_commands_side_by_side_share_one_connection(client):
    await client.ping()
    before = await connections_received(client)

    async def pipelined(i):
        async with client.pipeline(transaction=False) as pipe:
            return await pipe.set(f'p{i}', i).get(f'p{i}').execute()
    results = await asyncio.gather(*(pipelined(i) for i in range(20)), client.get('p0'))
    assert results[:20] == [[True, str(i)] for i in range(20)]
    assert results[20] == '0'  # sent last, after the first pipeline's SET
    assert await connections_received(client) == before


async def test_a_silent_redis_fails_the_whole_batch_after_one_deadline(client):
    """The socket timeout is one deadline for a batch (no timer per reply): a
    partition fails every command of the batch once it has passed, and the next
    batch, on a new connection, is answered once bytes flow again."""
    uri = urlsplit(REDIS_URI)
    proxy = await TcpProxy(uri.hostname, uri.port or 6379).start()
    proxied = create_redis(f'redis://127.0.0.1:{proxy.port}{uri.path}', socket_timeout=0.3)
    try:
        assert await proxied.set('before', 'yes') is True
        proxy.cut('blackhole')
        started = asyncio.get_running_loop().time()
        results = await asyncio.wait_for(asyncio.gather(  # without a deadline: hangs
            proxied.get('before'), proxied.incr('n'), return_exceptions=True), 5)
        waited = asyncio.get_running_loop().time() - started
        assert all(isinstance(r, redis_errors.TimeoutError) for r in results), results
        assert 0.3 <= waited < 1.5
        proxy.restore()
        assert await proxied.get('before') == 'yes'
    finally:
        await proxied.aclose()
        await proxy.close()
