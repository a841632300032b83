"""The stores behind the cached repositories (cached_repositories.py): Redis when
configured, shared by every server process; a bounded LRU in the process on the
embedded default (one process, so its writes are seen at once). Plus the bounded
per-process LRU of immutable rows (post bodies), which needs no invalidation message:
see docs/architecture.md, "Cached views".

An entry is a string: a value (`=` + JSON), or a marker (`~` + a random token) that a
change wrote after its commit. A reader that missed fills with `fill`, which writes
only if the key still holds what that reader saw (nothing, or the same marker): a
fill that read the database before a change committed cannot overwrite the change's
marker, so no stale value ever lands after a change answered."""
import logging
import secrets
import time
from datetime import datetime
from typing import Callable, Protocol

import cachebox
import cachetools
import orjson
import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from ..entities.errors import Unavailable
from .kv import redis_error_kind

log = logging.getLogger(__name__)

VALUE, MARKER = '=', '~'
# SET the value only if the key holds exactly ARGV[1] ('' for no key at all).
_FILL = ("local seen = redis.call('get', KEYS[1]) or '' "
         "if seen == ARGV[1] then redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) "
         "return 1 end return 0")


def encode(row: dict) -> str:
    return VALUE + orjson.dumps(row, option=orjson.OPT_NON_STR_KEYS).decode()


def decode(entry: str | None) -> dict | None:
    """The row an entry holds (None for a missing key or a marker). Datetimes come
    back as aware datetimes: every `*_at` field, nested rows' too."""
    return _parse(entry) if entry and entry[0] == VALUE else None


def _parse(entry: str) -> dict:
    return _revive(orjson.loads(entry[1:]))


def _revive(row: dict) -> dict:
    for key, value in row.items():
        if isinstance(value, str) and key.endswith('_at'):
            row[key] = datetime.fromisoformat(value)
        elif isinstance(value, dict) and key != 'meta':
            _revive(value)
    return row


def new_marker() -> str:
    return MARKER + secrets.token_hex(8)


class DecodedEntries:
    """decode(), memoized by the entry's text, for at most `max_entries` texts (least
    recently used dropped first). A row's entry stays the same text from read to
    read until the row changes, and parsing the entries of a timeline page (its
    authors, files and stats) was an eighth of its CPU (bench/http_bench.py
    --profile). `shared` and `stat` hand out the memoized row itself, nested rows
    (an avatar, a file's meta) included: callers only read it or spread it into a
    row of their own (two copies of each of a page's ~60 rows were a tenth of its
    CPU), and the row's identity is what the presented views are kept by
    (JoinedRows; services/hydration.py)."""

    def __init__(self, max_entries: int):
        self._rows: cachebox.LRUCache = cachebox.LRUCache(max_entries)
        self._stats: cachebox.LRUCache = cachebox.LRUCache(max_entries)  # (tag, row)
        # id sets apart, bounded by their ids (a frozenset costs ~50 bytes an id)
        self._sets: cachetools.LRUCache = cachetools.LRUCache(ID_SETS_MEMO, getsizeof=_size)
        # the keys of the large id sets read last, checked by their heads (cached_social)
        self.large_sets: cachebox.LRUCache = cachebox.LRUCache(max_entries)

    def shared(self, entry: str | None) -> dict | None:
        """The row itself: never change it."""
        if not entry or entry[0] != VALUE:
            return None
        row = self._rows.get(entry)
        if row is None:
            row = self._rows[entry] = _parse(entry)
        return row

    def stat(self, entry: str | None, epoch: str | None) -> dict | None:
        """The stat row of an entry (its tag taken out) if it was read
        under `epoch`; shared, never change it."""
        if not entry or entry[0] != VALUE or epoch is None:
            return None
        held = self._stats.get(entry)
        if held is None:
            row = _parse(entry)
            held = self._stats[entry] = (row.pop(TAG, None), row)
        return held[1] if held[0] == epoch else None

    def id_set(self, entry: str | None, epoch: str | None) -> tuple[bool, frozenset[int] | None]:
        """An id-set entry (id_set_row, tagged with the epoch as a stat row is) read
        under `epoch`: (False, None) for a miss; (True, None) for a set too large to
        be cached; else (True, its ids). Memoized as a frozenset, by its head when it
        has a token: a reader's follow set is read on every page."""
        if not entry or entry[0] != VALUE or epoch is None:
            return False, None
        memo_key = entry[:ID_SET_HEAD] if entry.startswith(TOKENED) else entry
        held = self._sets.get(memo_key)
        if held is None:
            row = _parse(entry)
            ids = row['ids']
            held = (row.get(TAG), None if ids is None else frozenset(ids))
            if _size(held) <= ID_SETS_MEMO:
                self._sets[memo_key] = held
        tag, ids = held
        return (True, ids) if tag == epoch else (False, None)

    def id_set_by_head(self, head: str | None,
                       epoch: str | None) -> tuple[bool, frozenset[int] | None]:
        """id_set of the entry that `head` (its first ID_SET_HEAD characters) begins,
        if this process holds that entry; else a miss (False, None)."""
        if not head or len(head) < ID_SET_HEAD or not head.startswith(TOKENED) or epoch is None:
            return False, None
        held = self._sets.get(head)
        if held is None:
            return False, None
        tag, ids = held
        return (True, ids) if tag == epoch else (False, None)


# An id set's entry begins with a token of its own, made with it: `={"w":"` and 16 hex
# digits (id_set_row). So its first ID_SET_HEAD characters name the whole entry: a
# large set is read by them (GETRANGE; cached_social.HEADED_IDS), not moved and hashed
# whole on every page (70 KB for 10,000 ids). An entry without a token is read whole.
TOKENED = VALUE + '{"w":"'
ID_SET_HEAD = len(TOKENED) + 16


def id_set_row(ids: list[int] | None) -> dict:
    """The row of an id-set entry (stat_entry tags it): its token first."""
    return {'w': secrets.token_hex(8), 'ids': ids}


# Ids held by one process's memo of id sets (~25 MB).
ID_SETS_MEMO = 500_000


def _size(held: tuple[str | None, frozenset[int] | None]) -> int:
    return 1 + len(held[1] or ())


class Cache(Protocol):
    decode: DecodedEntries

    async def get_many(self, keys: list[str]) -> list[str | None]: ...
    async def get_head(self, key: str, length: int,
                       beside: list[str]) -> tuple[str | None, list[str | None]]: ...
    async def put(self, entries: dict[str, str]) -> None: ...
    async def fill(self, entries: dict[str, tuple[str | None, str]]) -> None: ...


class RedisCache:
    """Entries in Redis with a TTL (the TTL bounds the life of an entry whose
    marker could not be written because Redis was unreachable)."""

    def __init__(self, client: aioredis.Redis, ttl: int, max_entries: int,
                 count_error: Callable[[str], None] | None = None):
        self.client = client
        self.ttl = ttl
        self.decode = DecodedEntries(max_entries)
        self.count_error = count_error

    def _unavailable(self, error: Exception) -> Unavailable:
        log.warning('redis unavailable (cache): %s', error)
        if self.count_error is not None:
            self.count_error(redis_error_kind(error))
        return Unavailable()

    async def get_many(self, keys: list[str]) -> list[str | None]:
        try:
            return await self.client.mget(keys)  # type: ignore[return-value]  # decoded
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            raise self._unavailable(error) from error

    async def get_head(self, key: str, length: int,
                       beside: list[str]) -> tuple[str | None, list[str | None]]:
        """The first `length` characters of `key`'s entry (None: no entry), and the
        entries of `beside`, in one round trip."""
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.getrange(key, 0, length - 1)
                pipe.mget(beside)
                head, entries = await pipe.execute()
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            raise self._unavailable(error) from error
        return head or None, entries

    async def put(self, entries: dict[str, str]) -> None:
        """Unconditional writes (markers after a change, rows just created)."""
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, entry in entries.items():
                    pipe.set(key, entry, ex=self.ttl)
                await pipe.execute()
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            raise self._unavailable(error) from error

    async def fill(self, entries: dict[str, tuple[str | None, str]]) -> None:
        """key -> (the entry seen, the new entry): each written only if the key still
        holds what was seen. Best effort: a reader's answer does not need it."""
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, (seen, entry) in entries.items():
                    pipe.eval(_FILL, 1, key, seen or '', entry, self.ttl)
                await pipe.execute()
        except (redis_errors.RedisError, OSError) as error:
            log.warning('cache fill failed: %s', error)


class MemoryCache:
    """The same in the process: at most `max_entries` entries, least recently used
    evicted first, each for `ttl` seconds."""

    def __init__(self, max_entries: int, ttl: int, clock: Callable[[], float] = time.monotonic):
        self._entries: cachebox.LRUCache = cachebox.LRUCache(max_entries)
        self.ttl = ttl
        self._clock = clock
        self.decode = DecodedEntries(max_entries)

    def _get(self, key: str) -> str | None:
        held = self._entries.get(key)
        if held is None:
            return None
        if held[1] <= self._clock():
            self._entries.pop(key, None)
            return None
        return held[0]

    async def get_many(self, keys: list[str]) -> list[str | None]:
        return [self._get(key) for key in keys]

    async def get_head(self, key: str, length: int,
                       beside: list[str]) -> tuple[str | None, list[str | None]]:
        entry = self._get(key)
        return (None if entry is None else entry[:length]), [self._get(k) for k in beside]

    async def put(self, entries: dict[str, str]) -> None:
        expires = self._clock() + self.ttl
        for key, entry in entries.items():
            self._entries[key] = (entry, expires)

    async def fill(self, entries: dict[str, tuple[str | None, str]]) -> None:
        expires = self._clock() + self.ttl
        for key, (seen, entry) in entries.items():
            if self._get(key) == seen:
                self._entries[key] = (entry, expires)


# The keys. One entry per row; several rows are read in one MGET (on Redis Cluster
# that becomes one GET per slot, redis-py's mget_nonatomic: the keys need no tag).
EPOCH = 'cache:stats:epoch'


def profile_key(user_id: int) -> str:
    return f'cache:profile:{user_id}'


def file_key(file_id: int) -> str:
    return f'cache:file:{file_id}'


def user_stat_key(user_id: int) -> str:
    return f'cache:user_stat:{user_id}'


def post_stat_key(post_id: int) -> str:
    return f'cache:post_stat:{post_id}'


def liked_ids_key(user_id: int) -> str:
    """The ids of every post the user likes (cached_social.py)."""
    return f'cache:liked_ids:{user_id}'


def following_ids_key(user_id: int) -> str:
    """The ids of every user the user follows (cached_social.py)."""
    return f'cache:following_ids:{user_id}'


# Stat rows carry the epoch they were read under: a change that cannot name every
# row it changes (a post's delete uncounts its likers; a reconcile repairs ranges)
# writes a new epoch, and every stat entry of an older one is a miss. A missing
# epoch (never written, flushed, evicted) trusts no entry: the reader writes one.
TAG = '_epoch'


def stat_entry(row: dict, epoch: str) -> str:
    return encode({**row, TAG: epoch})
