"""The hiredis packer (kv.PackedConnection) sends byte for byte what redis-py's own
packer sends, whatever the arguments."""
import pytest
import redis.asyncio as aioredis

from weiguan.dependencies.kv import PackedConnection, create_redis

COMMANDS = [
    ('GET', 'session:abc'),
    ('SET', 'k', '=中文 value', 'EX', 3600),
    ('EVALSHA', 'a' * 40, 2, 'weiguan:feed:{7}', 'weiguan:feed:{7}:total', 800, 'tok', 12),
    ('ZADD', 'z', 1.5, 'm', -3, b'\x00\xffbytes'),
    ('SCRIPT LOAD', 'return 1'),
    (b'CONFIG GET', b'maxmemory'),
    ('MGET', *[f'cache:file:{i}' for i in range(50)]),
]


@pytest.mark.parametrize('command', COMMANDS, ids=lambda c: str(c[0]))
def test_commands_are_packed_as_redis_py_packs_them(command):
    ours, theirs = PackedConnection(), aioredis.Connection()
    assert b''.join(ours.pack_command(*command)) == b''.join(theirs.pack_command(*command))
    assert b''.join(ours.pack_commands([command, command])) == \
        b''.join(theirs.pack_commands([command, command]))


async def test_tcp_clients_use_it_and_other_schemes_keep_their_own():
    tcp = create_redis('redis://127.0.0.1:6379/0')
    unix = create_redis('unix:///tmp/nowhere.sock')
    assert tcp.connection_pool.connection_class is PackedConnection
    assert unix.connection_pool.connection_class is aioredis.UnixDomainSocketConnection
    await tcp.aclose()
    await unix.aclose()
