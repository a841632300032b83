"""The home timeline as fan-out on write: each reader's feed (a FeedStore) holds the
ids of the followed users' posts, newest `max_items` of them; MySQL stays the
source of truth and `PostRepository.timeline` the reference the tests compare with.

- Publish records the post as pending and enqueues `feeds.fan_out`, which adds it
  to every existing feed of the author's followers, in keyset batches, then clears
  the pending entry. Reads merge the pending posts of followed authors, so a post
  is in its followers' pages as soon as its publish answers, however late the job.
  A process sends `batches_in_flight` batches of fan-outs and cleans at once,
  whatever the number of such jobs it runs: the feeds' Redis runs one command at a
  time, so more batches queued there make no job faster and only delay every
  command behind them (a publish's: bench/timeline_scale.py, docs/performance.md).
- Authors with more than `fanout_max_followers` followers are not fanned out: the
  job records them as big authors and reads merge their posts from MySQL (one
  bounded statement for all the big authors a reader follows).
- Delete enqueues `feeds.clean`; reads never show a deleted post anyway (it has no
  row left: filtered out), nor one of an author the reader no longer follows.
- A missing feed (never built, expired after `active_days` unread, Redis flushed)
  is read from MySQL with a bounded query, and rebuilt with the same query by the
  `feeds.rebuild` job, which the first read queues under the reader's lock
  (concurrent first reads queue it once).
- The timeline ends at the feed's window (its floor), as Mastodon's does.
"""
import asyncio
import logging
from typing import AsyncIterator

from ..entities.errors import Unavailable
from .concurrency import concurrently
from .hydration import PostHydrator
from .ports import (FeedRead, FeedStore, FollowRepository, JobFunction, JobQueue,
                    PostRepository, Row, UserRepository)

log = logging.getLogger(__name__)

NO_UPPER = 2 ** 62  # above every id
PAGE_ROUNDS = 6  # reads of the feed per page at most, when filtering left it short


class FeedService:
    def __init__(self, store: FeedStore, posts: PostRepository, follows: FollowRepository,
                 users: UserRepository, hydrator: PostHydrator, jobs: JobQueue,
                 max_items: int = 800, active_days: int = 30,
                 fanout_max_followers: int = 10_000, batch_size: int = 1000,
                 batches_in_flight: int = 1, lock_ttl: int = 30):
        self.store = store
        self.posts = posts
        self.follows = follows
        self.users = users
        self.hydrator = hydrator
        self.queue = jobs
        self.max_items = max_items
        self.ttl = active_days * 86400
        self.fanout_max_followers = fanout_max_followers
        self.batch_size = batch_size
        self._writing = asyncio.Semaphore(batches_in_flight)
        self.lock_ttl = lock_ttl

    def jobs(self) -> dict[str, JobFunction]:
        return {'feeds.fan_out': self.fan_out, 'feeds.clean': self.clean,
                'feeds.rebuild': self.rebuild}

    # what the other services call

    async def published(self, post_id: int, author_id: int) -> None:
        """After the post's commit: pending first (reads see it from now on), then
        the job. Should the store fail, the post is saved all the same and comes
        into the feeds by their rebuild."""
        try:
            await self.store.add_pending(post_id, author_id)
            await self.queue.enqueue('feeds.fan_out', post_id=post_id, author_id=author_id)
        except Unavailable:
            log.warning('post %s saved; its fan-out could not be queued', post_id)

    async def deleted(self, post_id: int, author_id: int) -> None:
        """After the delete's commit: reads filter the post out at once; the job
        takes it out of the feeds."""
        try:
            await self.store.add_deleting(post_id, author_id)
            await self.queue.enqueue('feeds.clean', post_id=post_id, author_id=author_id)
        except Unavailable:
            log.warning('post %s deleted; cleaning the feeds could not be queued', post_id)

    async def backfill(self, reader_id: int, author_id: int) -> None:
        """A new follow: the followee's newest posts into the reader's feed (if it
        exists; a missing one is rebuilt with them). One bounded query."""
        ids = await self.posts.author_ids(author_id, self.max_items)
        await self.store.add([reader_id], ids, self.max_items)  # drops the total too

    async def remove(self, reader_id: int, author_id: int) -> None:
        """An unfollow: the followee's newest posts out of the reader's feed; the
        read filter covers any older one."""
        ids = await self.posts.author_ids(author_id, self.max_items)
        await self.store.remove([reader_id], ids)  # drops the total too

    # the jobs

    async def fan_out(self, post_id: int, author_id: int) -> None:
        """Idempotent: adding an id twice keeps one."""
        if await self._is_big(author_id):
            await self.store.add_big_author(author_id)
        else:
            async for readers in self._followers(author_id):
                async with self._writing:
                    await self.store.add(readers, [post_id], self.max_items)
        await self.store.remove_pending(post_id)

    async def clean(self, post_id: int, author_id: int) -> None:
        async for readers in self._followers(author_id):
            async with self._writing:
                await self.store.remove(readers, [post_id])
        await self.store.remove_deleting(post_id)

    async def _is_big(self, author_id: int) -> bool:
        rows = await self.users.get_many_with_stats([author_id])
        stat = (rows.get(author_id) or {}).get('stat') or {}
        return (stat.get('follower_count') or 0) > self.fanout_max_followers

    async def _followers(self, author_id: int) -> AsyncIterator[list[int]]:
        after = 0
        while True:
            batch = await self.follows.followers_after(author_id, after, self.batch_size)
            if not batch:
                return
            yield [follower for _, follower in batch]
            if len(batch) < self.batch_size:
                return
            after = batch[-1][0]

    # reading

    async def rebuild(self, reader_id: int) -> None:
        """The job of a missing feed: the reader's newest ids from MySQL (bounded:
        PostRepository.recent_ids) written into it. The feed is marked as being
        rebuilt before the query, so a fan-out that runs meanwhile adds its post to
        it rather than skipping a missing feed. Idempotent: a feed built already is
        left as it is. Ends the reader's lock, which the read that queued it took."""
        try:
            if await self.store.begin(reader_id, self.ttl):
                ids, _ = await self.posts.recent_ids(reader_id, self.max_items)
                await self.store.finish(reader_id, ids, self._floor(ids), self.max_items,
                                        self.ttl)
        finally:
            await self.store.unlock(reader_id)

    async def _read_missing(self, reader_id: int) -> tuple[list[int], int]:
        """A read of a missing feed answers from the rebuild's bounded query (ids
        and total in one statement) and queues the rebuild, once for concurrent
        reads: under the reader's lock, which the job ends (or its TTL)."""
        if await self.store.lock(reader_id, self.lock_ttl):
            try:
                await self.queue.enqueue('feeds.rebuild', reader_id=reader_id)
            except Unavailable:
                log.warning('feed of %s not queued for its rebuild; read from MySQL',
                            reader_id)
                await self.store.unlock(reader_id)
        return await self.posts.recent_ids(reader_id, self.max_items)

    def _floor(self, rebuilt: list[int]) -> int:
        return rebuilt[-1] - 1 if len(rebuilt) >= self.max_items else 0

    async def page(self, reader_id: int, limit: int, before_id: int | None = None,
                   after_id: int | None = None) -> tuple[list[Row], int]:
        """API.md's page: the `limit` newest posts (below `before_id`), or the
        `limit` just above `after_id`; newest first either way; and the total (the
        exact SQL sum of the followed users' post counts, cached per reader: see
        _total)."""
        down = after_id is None
        lower, upper = after_id or 0, before_id or NO_UPPER
        want = limit + max(4, limit // 2)  # a little more: filtering may drop some
        first = await self.store.read(reader_id, lower, upper, want, down, self.ttl)
        pending, big, settled = await self._merged_authors(reader_id, first)
        if first.ids is None:
            rebuilt, total = await self._read_missing(reader_id)
            return (await self._page(reader_id, limit, lower, upper, want, down, first,
                                     rebuilt, pending, big)), total
        page = self._page(reader_id, limit, lower, upper, want, down, first, None,
                          pending, big)
        if settled and first.total is not None:
            return await page, first.total
        posts, total = await concurrently(page, self.posts.timeline_total(reader_id))
        if settled:
            await self.store.set_total(reader_id, first.token, total)
        return posts, total

    async def _page(self, reader_id: int, limit: int, lower: int, upper: int, want: int,
                    down: bool, first: FeedRead, rebuilt: list[int] | None,
                    pending: list[int], big: list[int]) -> list[Row]:
        floor = first.floor if rebuilt is None else self._floor(rebuilt)
        accepted: list[Row] = []
        for round in range(PAGE_ROUNDS):
            lower = max(lower, floor)
            if round == 0 and rebuilt is None:
                feed_ids = first.ids or []
            elif rebuilt is not None:
                feed_ids = _window(rebuilt, lower, upper, want, down)
            else:
                feed_ids = (await self.store.read(reader_id, lower, upper, want, down,
                                                  self.ttl)).ids or []
            extra = _window(pending, lower, upper, want, down)
            if big:
                extra += await self.posts.ids_of(big, lower, upper, want, down)
            candidates = sorted(set(feed_ids) | set(extra), reverse=down)[:want]
            accepted += await self._visible(reader_id, candidates, limit - len(accepted))
            if len(accepted) >= limit or len(candidates) < want:
                break
            lower, upper = (lower, candidates[-1]) if down else (candidates[-1], upper)
            want = min(want * 2, self.max_items)
        accepted = accepted[:limit]
        return accepted if down else accepted[::-1]

    async def _merged_authors(self, reader_id: int,
                              read: FeedRead) -> tuple[list[int], list[int], bool]:
        """The pending post ids (ascending) and the big authors of this read that
        the reader follows (one query, and none when there are neither), and
        whether the reader's cached total can be trusted (or written).

        The total cache: the fan-out and clean jobs drop their readers' cached
        totals with every write to their feeds, before they clear their pending
        entry; a follow or an unfollow drops the reader's. So while no post of a
        followed author is pending (published or deleted) the cached value is
        exact, and a value is written only if no drop came since this read (its
        token). The posts of big authors are not fanned out: their readers' totals
        are not cached."""
        pending_authors = set(read.pending.values()) | set(read.deleting.values())
        authors = (pending_authors | read.big_authors) - {reader_id}
        followed = await self.follows.following_among(reader_id, authors) \
            if authors else set()
        pending = sorted(p for p, a in read.pending.items() if a in followed)
        return pending, sorted(read.big_authors & followed), not followed

    async def _visible(self, reader_id: int, ids: list[int], need: int) -> list[Row]:
        """The first `need` posts of `ids` presented, in order, without the deleted
        ones and those of authors the reader does not follow (any more). Only those
        are presented: the page reads a few more ids than it shows. Whether the
        reader follows an author is read with the authors (one round trip less than
        asking first): a feed holds followed authors' posts, so the first `need`
        fall short only where a fan-out that read the followers before an unfollow
        wrote after it, and the rest are presented then."""
        if not ids:
            return []
        rows = await self.posts.get_many_with_stat(ids)
        found = [rows[i] for i in ids if i in rows and rows[i]['user_id'] != reader_id]
        shown = await self._followed(found[:need], reader_id)
        if len(shown) < need and len(found) > need:
            shown += (await self._followed(found[need:], reader_id))[:need - len(shown)]
        return shown

    async def _followed(self, posts: list[Row], reader_id: int) -> list[Row]:
        return [post for post in await self.hydrator.many(posts, reader_id)
                if post['user'] is not None and post['user']['is_following']]


def _window(ids: list[int], lower: int, upper: int, limit: int, down: bool) -> list[int]:
    """Of `ids` (any order), those strictly between lower and upper: the `limit`
    newest if `down`, else the `limit` oldest."""
    inside = sorted((i for i in ids if lower < i < upper), reverse=down)
    return inside[:limit]

