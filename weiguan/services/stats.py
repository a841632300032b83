"""Reconciling user and post statistics: all rows in id chunks, or one id."""
from typing import Awaitable, Callable

from ..entities.fields import MAX_ID
from .ports import Row, StatRepository

Progress = Callable[[int, int], None]  # (ids done, ids in all)

CHUNK = 20_000


class StatService:
    def __init__(self, stats: StatRepository, chunk: int = CHUNK):
        self.stats = stats
        self.chunk = chunk

    async def _all(self, id_range: Callable[[], Awaitable[tuple[int, int]]],
                   reconcile: Callable[[int, int], Awaitable[int]],
                   progress: Progress | None) -> int:
        low, high = await id_range()  # (0, 0) for an empty table: one chunk, 1..MAX_ID
        repaired = 0
        for start in range(low, high + 1, self.chunk):
            end = min(start + self.chunk - 1, high)
            # The outer chunks reach past the source's ids, where orphans may lie.
            repaired += await reconcile(1 if start == low else start,
                                        MAX_ID if end == high else end)
            if progress:
                progress(end - low + 1, high - low + 1)
        return repaired

    async def reconcile_users(self, progress: Progress | None = None) -> int:
        """Repair every user's stat row; returns how many rows were repaired."""
        return await self._all(self.stats.user_id_range, self.stats.reconcile_users, progress)

    async def reconcile_posts(self, progress: Progress | None = None) -> int:
        return await self._all(self.stats.post_id_range, self.stats.reconcile_posts, progress)

    async def reconcile_user(self, user_id: int) -> Row | None:
        """Repair one user's stat row and return it (None for an unknown user)."""
        await self.stats.reconcile_users(user_id, user_id)
        return await self.stats.user_stat(user_id)

    async def reconcile_post(self, post_id: int) -> Row | None:
        await self.stats.reconcile_posts(post_id, post_id)
        return await self.stats.post_stat(post_id)
