"""The home feeds on Redis: one sorted set per reader, `weiguan:feed:{<user id>}`,
score = member = post id, plus one sentinel member whose score is the window's
floor (the feed holds every followed post above it): 'f' once built, 'b' while a
rebuild fills it. The sentinel makes a built-but-empty feed differ from a missing
one, and a missing feed is what an inactive reader has (the key's TTL, refreshed
by each read). Each step on one feed is one Lua script on its keys, which all
share the reader's `{<user id>}` hash tag (the rebuild lock; the cached total, a
hash of the value and a token that every write to the feed changes), so the feeds
can move to Redis Cluster as they are. Three small global keys: the posts whose
fan-out is pending and those whose deletion is not cleaned yet (hashes post ->
author), and the authors not fanned out (a set)."""
import itertools
import secrets
from typing import Callable, Iterable

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from ..services.ports import FeedRead
from .kv import _unavailable_on_redis_error

PENDING = 'weiguan:feeds:pending'
DELETING = 'weiguan:feeds:deleting'
BIG_AUTHORS = 'weiguan:feeds:big'
TOTAL_TTL = 3600  # a cached total lives an hour at most (a stats repair shows then)

# The sentinel (rank 0: its score is below every id) stays; the lowest ids beyond
# `max` go, and the floor rises to the highest of them.
_TRIM = """
local function trim(key, sentinel, max)
  local n = redis.call('zcard', key) - 1
  if n > max then
    local cut = redis.call('zrange', key, n - max, n - max, 'WITHSCORES')
    redis.call('zremrangebyrank', key, 1, n - max)
    redis.call('zadd', key, cut[2], sentinel)
  end
end
local function drop_total(key, token)
  if redis.call('exists', key) == 1 then
    redis.call('hset', key, 'token', token)
    redis.call('hdel', key, 'value')
  end
end
local function sentinel(key)
  local floor = redis.call('zscore', key, 'f')
  if floor then return 'f', tonumber(floor) end
  floor = redis.call('zscore', key, 'b')
  if floor then return 'b', tonumber(floor) end
  return nil, 0
end
"""
# KEYS[1] the feed, KEYS[2] its total; ARGV lower, upper, limit, newest first (1/0),
# ttl, a new token, the total's ttl: {token, cached total or false, floor, ids} (no
# floor nor ids for a missing feed). A missing total is reserved with the new token.
_READ = _TRIM + """
local total = redis.call('hmget', KEYS[2], 'token', 'value')
if not total[1] then
  redis.call('hset', KEYS[2], 'token', ARGV[6])
  redis.call('expire', KEYS[2], ARGV[7])
  total[1] = ARGV[6]
end
local floor = redis.call('zscore', KEYS[1], 'f')
if not floor then return {total[1], total[2]} end
redis.call('expire', KEYS[1], ARGV[5])
local lower = tostring(math.max(tonumber(ARGV[1]), tonumber(floor)))
if ARGV[4] == '1' then
  return {total[1], total[2], floor,
          redis.call('zrevrangebyscore', KEYS[1], '(' .. ARGV[2], '(' .. lower,
                     'LIMIT', 0, ARGV[3])}
end
return {total[1], total[2], floor,
        redis.call('zrangebyscore', KEYS[1], '(' .. lower, '(' .. ARGV[2],
                   'LIMIT', 0, ARGV[3])}
"""
# KEYS[1] the total; ARGV token, value, ttl: only if no write came since the read
_SET_TOTAL = """
if redis.call('hget', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], 'value', ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])
return 1
"""
# KEYS[1] the feed, KEYS[2] its total; ARGV max, token, ids... : only to a feed that
# exists, only above its floor
_ADD = _TRIM + """
drop_total(KEYS[2], ARGV[2])
if redis.call('exists', KEYS[1]) == 0 then return 0 end
local s, floor = sentinel(KEYS[1])
if not s then return 0 end
for i = 3, #ARGV do
  if tonumber(ARGV[i]) > floor then redis.call('zadd', KEYS[1], ARGV[i], ARGV[i]) end
end
trim(KEYS[1], s, tonumber(ARGV[1]))
return 1
"""
# KEYS[1] the feed, KEYS[2] its total; ARGV token, ids...
_REMOVE = _TRIM + """
drop_total(KEYS[2], ARGV[1])
for i = 2, #ARGV do redis.call('zrem', KEYS[1], ARGV[i]) end
return 1
"""
# KEYS[1] the feed; ARGV ttl: a missing feed is marked as being rebuilt
_BEGIN = """
if redis.call('zscore', KEYS[1], 'f') then return 0 end
if not redis.call('zscore', KEYS[1], 'b') then redis.call('zadd', KEYS[1], 0, 'b') end
redis.call('expire', KEYS[1], ARGV[1])
return 1
"""
# KEYS[1] the feed; ARGV floor, max, ttl, ids... : the rebuilt ids joined to what
# fan-outs added meanwhile; nothing if the feed was lost since its begin
_FINISH = _TRIM + """
local b = redis.call('zscore', KEYS[1], 'b')
if not b then return 0 end
local floor = math.max(tonumber(b), tonumber(ARGV[1]))
redis.call('zrem', KEYS[1], 'b')
redis.call('zremrangebyscore', KEYS[1], '-inf', floor)
for i = 4, #ARGV do
  if tonumber(ARGV[i]) > floor then redis.call('zadd', KEYS[1], ARGV[i], ARGV[i]) end
end
redis.call('zadd', KEYS[1], floor, 'f')
trim(KEYS[1], 'f', tonumber(ARGV[2]))
redis.call('expire', KEYS[1], ARGV[3])
return 1
"""


def feed_key(user_id: int) -> str:
    return f'weiguan:feed:{{{user_id}}}'


def lock_key(user_id: int) -> str:
    return f'weiguan:feed:{{{user_id}}}:lock'


def total_key(user_id: int) -> str:
    return f'weiguan:feed:{{{user_id}}}:total'


def _evalsha(pipe: Pipeline, script: AsyncScript, keys: list[str], args: list) -> None:
    pipe.evalsha(script.sha, len(keys), *keys, *args)


class RedisFeeds:
    def __init__(self, client: aioredis.Redis, count_error=None):
        self.client = client
        self.count_error = count_error
        self._read = client.register_script(_READ)
        self._add = client.register_script(_ADD)
        self._begin = client.register_script(_BEGIN)
        self._finish = client.register_script(_FINISH)
        self._remove = client.register_script(_REMOVE)
        self._set_total = client.register_script(_SET_TOTAL)
        # write tokens: unique across processes (the random prefix) and cheap (a
        # uuid4 a read was 2% of a timeline page's CPU)
        self._token_prefix, self._token_count = secrets.token_hex(8), itertools.count()

    def _token(self) -> str:
        return f'{self._token_prefix}.{next(self._token_count)}'

    async def _pipelined(self, build: Callable[[Pipeline], None]) -> list:
        """A pipeline whose scripts are sent by their SHA alone (`_evalsha`). A
        script object passed to a pipeline makes redis-py ask SCRIPT EXISTS first,
        one more round trip per pipeline; here a script is loaded only when Redis
        lacks it (restarted, flushed), and the pipeline sent again: every step on a
        feed may run twice."""
        try:
            return await self._send(build)
        except NoScriptError:
            for script in (self._read, self._add, self._remove):
                await self.client.script_load(script.script)
            return await self._send(build)

    async def _send(self, build: Callable[[Pipeline], None]) -> list:
        async with self.client.pipeline(transaction=False) as pipe:
            build(pipe)
            return await pipe.execute()

    @_unavailable_on_redis_error
    async def read(self, user_id: int, lower: int, upper: int, limit: int,
                   newest_first: bool, ttl: int) -> FeedRead:
        """One pipeline, in this order: the pending posts and the big authors before
        the feed and its cached total, so a fan-out that ends in between (feed written, then its pending
        entry cleared) is seen in one or the other."""
        def build(pipe: Pipeline) -> None:
            pipe.hgetall(PENDING)
            pipe.hgetall(DELETING)
            pipe.smembers(BIG_AUTHORS)
            _evalsha(pipe, self._read, [feed_key(user_id), total_key(user_id)],
                     [lower, upper, limit, int(newest_first), ttl, self._token(), TOTAL_TTL])

        pending, deleting, big, feed = await self._pipelined(build)
        ids, floor = (None, 0) if len(feed) < 4 else ([int(i) for i in feed[3]],
                                                      int(float(feed[2])))
        total = int(feed[1]) if feed[1] is not None else None
        return FeedRead(ids, floor, {int(p): int(a) for p, a in pending.items()},
                        {int(a) for a in big}, {int(p): int(a) for p, a in deleting.items()},
                        total, feed[0])

    @_unavailable_on_redis_error
    async def begin(self, user_id: int, ttl: int) -> bool:
        """False when the feed is built already (then left as it is)."""
        return bool(await self._begin(keys=[feed_key(user_id)], args=[ttl]))

    @_unavailable_on_redis_error
    async def finish(self, user_id: int, ids: list[int], floor: int, max_items: int,
                     ttl: int) -> bool:
        return bool(await self._finish(keys=[feed_key(user_id)],
                                       args=[floor, max_items, ttl, *ids]))

    @_unavailable_on_redis_error
    async def add(self, user_ids: Iterable[int], post_ids: list[int],
                  max_items: int) -> None:
        """One script per feed, all in one pipeline (one round trip a batch)."""
        token, readers = self._token(), list(user_ids)

        def build(pipe: Pipeline) -> None:
            for user_id in readers:
                _evalsha(pipe, self._add, [feed_key(user_id), total_key(user_id)],
                         [max_items, token, *post_ids])

        await self._pipelined(build)

    @_unavailable_on_redis_error
    async def remove(self, user_ids: Iterable[int], post_ids: list[int]) -> None:
        token, readers = self._token(), list(user_ids)

        def build(pipe: Pipeline) -> None:
            for user_id in readers:
                _evalsha(pipe, self._remove, [feed_key(user_id), total_key(user_id)],
                         [token, *post_ids])

        await self._pipelined(build)

    @_unavailable_on_redis_error
    async def lock(self, user_id: int, ttl: int) -> bool:
        return bool(await self.client.set(lock_key(user_id), '1', ex=ttl, nx=True))

    @_unavailable_on_redis_error
    async def unlock(self, user_id: int) -> None:
        await self.client.delete(lock_key(user_id))

    @_unavailable_on_redis_error
    async def add_pending(self, post_id: int, author_id: int) -> None:
        await self.client.hset(PENDING, str(post_id), str(author_id))

    @_unavailable_on_redis_error
    async def remove_pending(self, post_id: int) -> None:
        await self.client.hdel(PENDING, str(post_id))

    @_unavailable_on_redis_error
    async def add_big_author(self, author_id: int) -> None:
        await self.client.sadd(BIG_AUTHORS, str(author_id))

    @_unavailable_on_redis_error
    async def add_deleting(self, post_id: int, author_id: int) -> None:
        await self.client.hset(DELETING, str(post_id), str(author_id))

    @_unavailable_on_redis_error
    async def remove_deleting(self, post_id: int) -> None:
        await self.client.hdel(DELETING, str(post_id))

    @_unavailable_on_redis_error
    async def set_total(self, user_id: int, token: str, total: int) -> None:
        await self._set_total(keys=[total_key(user_id)], args=[token, total, TOTAL_TTL])

    @_unavailable_on_redis_error
    async def drop_total(self, user_id: int) -> None:
        await self.remove([user_id], [])
