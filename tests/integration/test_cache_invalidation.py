"""The cached repositories (weiguan/dependencies/cached_repositories.py and
cached_social.py) stay exact: what a write changed is seen by the next read of every
process, at once (no message to wait for), and a reader that read the database before
a change cannot put the old row back. Each test has two "processes": two sets of the
decorators over the same database and the same shared cache (on the Redis pass each
with its own Redis client), each with its own per-process post bodies."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from weiguan.dependencies import cached_social, caches, tables
from weiguan.dependencies.cached_repositories import (CachedFileRepository,
                                                      CachedPostRepository,
                                                      CachedUserRepository)
from weiguan.dependencies.cached_social import (CachedFollowRepository, CachedLikeRepository,
                                                CachedStatRepository)
from weiguan.dependencies.caches import (EPOCH, RedisCache, encode, following_ids_key,
                                        profile_key, stat_entry)
from weiguan.dependencies.local_rows import LocalRows
from weiguan.dependencies.kv import create_redis

from tests.support import provided
from tests.support.servers import REDIS_URI

IMAGE = {'name': 'a.jpg', 'size': 10, 'type': 'image/jpeg', 'width': 1, 'height': 1,
         'duration': 0}


def _process(sql, cache) -> SimpleNamespace:
    return SimpleNamespace(
        users=CachedUserRepository(sql.users, cache), files=CachedFileRepository(sql.files, cache),
        posts=CachedPostRepository(sql.posts, LocalRows(100), cache),
        likes=CachedLikeRepository(sql.likes, cache),
        follows=CachedFollowRepository(sql.follows, cache),
        stats=CachedStatRepository(sql.stats, cache))


@pytest.fixture
async def processes(container):
    names = ('users', 'files', 'posts', 'likes', 'follows', 'stats')
    sql = SimpleNamespace(**dict(zip(names, await provided(
        container, *(f'sql_{name}' for name in names)))))
    [cache] = await provided(container, 'cache')
    client = None
    other = cache
    if REDIS_URI:
        assert isinstance(cache, RedisCache)  # no skipping on the Redis pass
        client = create_redis(REDIS_URI)
        other = RedisCache(client, cache.ttl, 100)
    yield _process(sql, cache), _process(sql, other), sql
    if client is not None:
        await client.aclose()


async def _profile(process, user_id: int) -> dict | None:
    return (await process.users.get_many_with_stats([user_id])).get(user_id)


async def test_a_profile_change_is_seen_by_the_other_process_at_once(processes):
    a, b, _ = processes
    alice = await a.users.create('alice', 'hash')
    assert (await _profile(b, alice['id']))['intro'] == ''  # b's cache warm
    assert (await _profile(b, alice['id']))['intro'] == ''
    await a.users.update(alice['id'], intro='changed', username='alice2')
    seen = await _profile(b, alice['id'])
    assert (seen['intro'], seen['username']) == ('changed', 'alice2')


async def test_a_reader_of_the_old_row_cannot_fill_it_in_after_a_change(processes):
    a, b, sql = processes
    alice = await a.users.create('alice', 'hash')
    [seen] = await b.users.cache.get_many([profile_key(alice['id'])])
    old = (await sql.users.get_many_with_stats([alice['id']]))[alice['id']]
    await a.users.update(alice['id'], intro='new')  # answers between b's read and fill
    old.pop('stat')
    await b.users.cache.fill({profile_key(alice['id']): (seen, encode(old))})
    assert (await _profile(b, alice['id']))['intro'] == 'new'
    assert (await _profile(a, alice['id']))['intro'] == 'new'


async def test_likes_follows_and_posts_count_at_once_in_the_other_process(processes):
    a, b, _ = processes
    alice, bob = [(await a.users.create(name, 'hash'))['id'] for name in ('alice', 'bob')]
    post = await a.posts.create(alice, 'text', 'hi', [], None)
    for _ in range(3):  # warm: the first read writes the epoch, the second fills
        assert (await b.posts.get_with_stat(post['id']))['stat']['like_count'] == 0
        assert (await _profile(b, bob))['stat']['like_count'] == 0
        assert (await _profile(b, alice))['stat']['post_count'] == 1
    await a.likes.like(bob, post['id'])
    await a.follows.follow(bob, alice)
    await a.posts.create(alice, 'text', 'again', [], None)
    assert (await b.posts.get_with_stat(post['id']))['stat']['like_count'] == 1
    assert (await _profile(b, bob))['stat']['like_count'] == 1
    assert (await _profile(b, bob))['stat']['following_count'] == 1
    assert (await _profile(b, alice))['stat']['follower_count'] == 1
    assert (await _profile(b, alice))['stat']['post_count'] == 2
    await a.likes.unlike(bob, post['id'])
    await a.follows.unfollow(bob, alice)
    assert (await b.posts.get_with_stat(post['id']))['stat']['like_count'] == 0
    assert (await _profile(b, bob))['stat']['like_count'] == 0
    assert (await _profile(b, alice))['stat']['follower_count'] == 0


async def test_a_deleted_post_is_gone_everywhere_with_its_likers_counts(processes):
    """Its likers' cached likes are voided too: on SQLite a deleted post's id can be
    given again, and the new post is nobody's like."""
    a, b, sql = processes
    alice, bob = [(await a.users.create(name, 'hash'))['id'] for name in ('alice', 'bob')]
    post = await a.posts.create(alice, 'text', 'hi', [], None)
    await a.likes.like(bob, post['id'])
    for _ in range(3):
        assert (await b.posts.get_with_stat(post['id']))['text'] == 'hi'
        assert (await _profile(b, bob))['stat']['like_count'] == 1
        assert await b.likes.liked_among(bob, [post['id']]) == {post['id']}
    assert await a.posts.delete(post['id'], alice) is True
    assert await b.posts.get_with_stat(post['id']) is None  # b still holds the body
    assert await a.posts.get_with_stat(post['id']) is None
    assert (await _profile(b, bob))['stat']['like_count'] == 0  # uncounted by the delete
    assert (await _profile(b, alice))['stat']['post_count'] == 0
    assert await b.likes.liked_among(bob, [post['id']]) == set()
    assert await sql.likes.liked_among(bob, [post['id']]) == set()


async def test_a_deleted_file_is_gone_everywhere_and_from_its_owners_avatar(processes):
    a, b, _ = processes
    alice = (await a.users.create('alice', 'hash'))['id']
    [avatar, image] = await a.files.create_many([
        {'user_id': alice, 'region': 'local', 'bucket': 'default', 'path': path,
         'meta': IMAGE} for path in ('avatar.jpg', 'image.jpg')])
    await a.users.update(alice, avatar_id=avatar['id'])
    for _ in range(3):
        assert set(await b.files.get_many([avatar['id'], image['id']])) == {
            avatar['id'], image['id']}
        assert (await _profile(b, alice))['avatar']['id'] == avatar['id']
    await a.files.delete(avatar['id'])
    assert set(await b.files.get_many([avatar['id'], image['id']])) == {image['id']}
    assert await b.files.get(avatar['id']) is None
    assert (await _profile(b, alice))['avatar'] is None


async def test_a_reconcile_that_repairs_voids_every_cached_stat(processes, container):
    a, b, _ = processes
    alice = (await a.users.create('alice', 'hash'))['id']
    [database] = await provided(container, 'database')
    async with database.transaction() as conn:  # drift, behind the repositories' back
        await conn.execute(sa.update(tables.user_stat)
                           .where(tables.user_stat.c.user_id == alice).values(post_count=5))
    for _ in range(3):
        assert (await _profile(b, alice))['stat']['post_count'] == 5
    async with database.transaction() as conn:  # cached: not seen until a reconcile
        await conn.execute(sa.update(tables.user_stat)
                           .where(tables.user_stat.c.user_id == alice).values(post_count=7))
    assert (await _profile(b, alice))['stat']['post_count'] == 5
    assert await a.stats.reconcile_users(alice, alice) == 1
    assert (await _profile(b, alice))['stat']['post_count'] == 0


async def test_a_page_of_posts_by_id_counts_likes_and_leaves_the_deleted_out(processes):
    a, b, sql = processes
    alice, bob = [(await a.users.create(name, 'hash'))['id'] for name in ('alice', 'bob')]
    ids = [(await a.posts.create(alice, 'text', f'p{n}', [], None))['id'] for n in range(3)]
    for _ in range(3):  # b's bodies and stats warm
        page = await b.posts.get_many_with_stat(ids)
        assert [page[i]['text'] for i in ids] == ['p0', 'p1', 'p2']
    await a.likes.like(bob, ids[1])
    await a.posts.delete(ids[2], alice)
    page = await b.posts.get_many_with_stat([*ids, ids[2] + 1000])
    assert list(page) == ids[:2]
    assert [page[i]['stat']['like_count'] for i in ids[:2]] == [0, 1]
    assert await sql.posts.get_many_with_stat(ids) == page  # the same rows as SQL's


async def test_a_cached_row_is_handed_out_again_until_it_changes(processes):
    """The same object while its entries hold (its presented view and dump are kept
    by that identity: services/hydration.py); a change gives a new one."""
    a, b, _ = processes
    alice = (await a.users.create('alice', 'hash'))['id']
    post = (await a.posts.create(alice, 'text', 'p', [], None))['id']
    for _ in range(3):  # b's bodies and entries warm (the stats epoch, then the stats)
        profile, page = await _profile(b, alice), await b.posts.get_many_with_stat([post])
    assert await _profile(b, alice) is profile
    assert (await b.posts.get_many_with_stat([post]))[post] is page[post]
    assert await b.posts.get_with_stat(post) is page[post]
    await a.likes.like(alice, post)
    liked = (await b.posts.get_many_with_stat([post]))[post]
    assert liked is not page[post] and liked['stat']['like_count'] == 1
    assert (await _profile(b, alice))['stat']['like_count'] == 1
    await a.users.update(alice, intro='new')
    assert (await _profile(b, alice))['intro'] == 'new'


async def test_likes_and_follows_show_in_the_viewers_flags_in_the_other_process_at_once(processes):
    a, b, _ = processes
    alice, bob, carol = [(await a.users.create(n, 'hash'))['id'] for n in ('alice', 'bob', 'carol')]
    post = await a.posts.create(alice, 'text', 'hi', [], None)
    await a.follows.follow(bob, carol)
    for _ in range(3):  # warm: the first read writes the epoch, the second fills
        assert await b.likes.liked_among(bob, [post['id']]) == set()
        assert await b.follows.following_among(bob, [alice, carol]) == {carol}
    await a.likes.like(bob, post['id'])
    await a.follows.follow(bob, alice)
    assert await b.likes.liked_among(bob, [post['id'], post['id'] + 1]) == {post['id']}
    assert await b.follows.following_among(bob, [alice, carol, bob]) == {alice, carol}
    assert await b.likes.liked_among(carol, [post['id']]) == set()  # only the liker's
    await a.likes.unlike(bob, post['id'])
    await a.follows.unfollow(bob, carol)
    assert await b.likes.liked_among(bob, [post['id']]) == set()
    assert await b.follows.following_among(bob, [alice, carol]) == {alice}


async def test_a_reader_of_the_old_follow_set_cannot_fill_it_in_after_a_follow(processes):
    a, b, sql = processes
    alice, bob = [(await a.users.create(n, 'hash'))['id'] for n in ('alice', 'bob')]
    await b.follows.following_among(bob, [alice])  # the epoch written
    entry, epoch = await b.follows.cache.get_many([following_ids_key(bob), EPOCH])
    old = await sql.follows.following_ids(bob, 10)  # read before the follow...
    await a.follows.follow(bob, alice)  # ...which answers before the fill
    await b.follows.cache.fill({following_ids_key(bob): (entry, stat_entry({'ids': old}, epoch))})
    assert await b.follows.following_among(bob, [alice]) == {alice}
    assert await a.follows.following_among(bob, [alice]) == {alice}


async def test_a_set_over_the_cap_is_read_from_sql_and_stays_exact(processes, monkeypatch):
    a, b, _ = processes
    monkeypatch.setattr(cached_social, 'ID_SET_MAX', 2)
    alice, *others = [(await a.users.create(f'u{n}', 'hash'))['id'] for n in range(4)]
    for other in others[:2]:
        await a.follows.follow(alice, other)
    for _ in range(2):  # fits: cached
        assert await b.follows.following_among(alice, others) == set(others[:2])
    await a.follows.follow(alice, others[2])  # three: over the cap
    for _ in range(3):
        assert await b.follows.following_among(alice, others) == set(others)
    [entry] = await b.follows.cache.get_many([following_ids_key(alice)])
    assert b.follows.cache.decode.shared(entry)['ids'] is None  # cached as "too many"
    await a.follows.unfollow(alice, others[0])
    assert await b.follows.following_among(alice, others) == set(others[1:])


async def test_the_head_of_an_entry_is_read_with_the_entries_beside_it(processes):
    a, _, _ = processes
    cache = a.follows.cache
    await cache.put({'test:head': '=0123456789', 'test:beside': '=b'})
    assert await cache.get_head('test:head', 4, ['test:beside', 'test:none']) == \
        ('=012', ['=b', None])
    assert await cache.get_head('test:head', 100, []) == ('=0123456789', [])
    assert await cache.get_head('test:none', 4, ['test:head']) == (None, ['=0123456789'])


class EntryReads:
    """Counts the whole entries read under one key (the head reads aside)."""

    def __init__(self, cache, key: str):
        self.count, self.key, self._get_many = 0, key, cache.get_many
        cache.get_many = self.get_many

    async def get_many(self, keys):
        self.count += keys.count(self.key)
        return await self._get_many(keys)


async def test_a_large_follow_set_is_checked_by_its_head_and_stays_exact(processes,
                                                                        monkeypatch):
    monkeypatch.setattr(cached_social, 'HEADED_IDS', 0)  # any set is large
    a, b, _ = processes
    alice, bob, carol = [(await a.users.create(n, 'hash'))['id'] for n in ('alice', 'bob', 'carol')]
    await a.follows.follow(bob, alice)
    reads = EntryReads(b.follows.cache, following_ids_key(bob))
    for _ in range(4):
        assert await b.follows.following_among(bob, [alice, carol]) == {alice}
    assert reads.count == 2  # a miss, then the entry filled; then only its head
    [entry] = await b.follows.cache.get_many([following_ids_key(bob)])
    assert entry.startswith(caches.TOKENED) and len(entry) > caches.ID_SET_HEAD
    await a.follows.follow(bob, carol)  # a marker over the entry: its head changes
    assert await b.follows.following_among(bob, [alice, carol]) == {alice, carol}
    await a.follows.unfollow(bob, alice)
    for _ in range(2):
        assert await b.follows.following_among(bob, [alice, carol]) == {carol}


async def test_a_small_set_is_read_whole_beside_its_epoch(processes):
    a, b, _ = processes
    alice, bob = [(await a.users.create(n, 'hash'))['id'] for n in ('alice', 'bob')]
    await a.follows.follow(bob, alice)
    reads = EntryReads(b.follows.cache, following_ids_key(bob))
    heads = []
    b.follows.cache.get_head = lambda *args: heads.append(args)
    for _ in range(3):
        assert await b.follows.following_among(bob, [alice]) == {alice}
    assert (reads.count, heads) == (3, [])


async def test_a_set_cached_before_the_token_is_read_whole_and_written_anew(processes,
                                                                           monkeypatch):
    monkeypatch.setattr(cached_social, 'HEADED_IDS', 0)
    a, b, sql = processes
    alice, bob = [(await a.users.create(n, 'hash'))['id'] for n in ('alice', 'bob')]
    await a.follows.follow(bob, alice)
    key = following_ids_key(bob)
    await b.follows.following_among(bob, [alice])  # the epoch written
    [epoch] = await b.follows.cache.get_many([EPOCH])
    await b.follows.cache.put({key: stat_entry({'ids': [alice]}, epoch)})  # the old format
    reads = EntryReads(b.follows.cache, key)
    for _ in range(3):
        assert await b.follows.following_among(bob, [alice]) == {alice}
    assert reads.count == 2  # the old entry, then the new one once, then heads only
    [entry] = await b.follows.cache.get_many([key])
    assert entry.startswith(caches.TOKENED)
    assert b.follows.cache.decode.id_set(entry, epoch) == (True, frozenset({alice}))
