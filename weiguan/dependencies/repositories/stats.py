"""Reconciling the stat tables from the source tables with set-based SQL: a few
statements per id range, whatever the number of users or posts in it. The live
counters are kept exact by the writes themselves (repositories/counters.py); this
repairs any drift (a manual edit, a restore, a bug)."""
import sqlalchemy as sa

from .. import tables
from ..database import insert_ignore, retry_conflicts
from ..tables import utcnow
from .base import Repository, row_dict

user, user_stat = tables.user, tables.user_stat
post, post_stat = tables.post, tables.post_stat
post_like, user_follow = tables.post_like, tables.user_follow


def _count(table: sa.Table, column: sa.Column, owner: sa.Column) -> sa.ScalarSelect:
    """The true value of a counter, computed at statement time for the row `owner` names."""
    return (sa.select(sa.func.count()).select_from(table)
            .where(column == owner).scalar_subquery())


# counter name -> (source table, column that names the owner)
USER_COUNTERS = {
    'post_count': (post, post.c.user_id),
    'like_count': (post_like, post_like.c.user_id),
    'following_count': (user_follow, user_follow.c.user_id),
    'follower_count': (user_follow, user_follow.c.following_id),
}
POST_COUNTERS = {'like_count': (post_like, post_like.c.post_id)}
WRITE_BATCH = 1000


class StatRepository(Repository):
    table = user_stat

    async def _id_range(self, source: sa.Table) -> tuple[int, int]:
        """Smallest and largest id of `source` (0, 0 when empty)."""
        async with self.db.connection() as conn:
            low, high = (await conn.execute(
                sa.select(sa.func.min(source.c.id), sa.func.max(source.c.id)))).one()
        return low or 0, high or 0

    async def user_id_range(self) -> tuple[int, int]:
        return await self._id_range(user)

    async def post_id_range(self) -> tuple[int, int]:
        return await self._id_range(post)

    @retry_conflicts
    async def _reconcile(self, stat: sa.Table, owner: sa.Column, source: sa.Table,
                         counters: dict, low: int, high: int) -> int:
        """Stat rows for owners in [low, high]: missing ones created, orphans deleted,
        wrong counts set right. Returns how many rows were repaired.

        One read finds the missing and drifted rows: the source range outer-joined to
        its stat rows and to one GROUP BY per counter, each an ordered index range
        scan. Only the rows found are written, with counts computed by the writing
        statement itself so that a like committed meanwhile is not lost."""
        truth = {name: sa.select(column.label('owner'), sa.func.count().label('n'))
                 .where(column.between(low, high)).group_by(column).subquery()
                 for name, (_, column) in counters.items()}
        counted = source
        for grouped in truth.values():
            counted = counted.outerjoin(grouped, grouped.c.owner == source.c.id)
        true_values = {name: sa.func.coalesce(grouped.c.n, 0)
                       for name, grouped in truth.items()}
        joined = counted.outerjoin(stat, owner == source.c.id)
        wrong = [stat.c[name] != value for name, value in true_values.items()]
        find = (sa.select(source.c.id, stat.c.id.label('stat_id')).select_from(joined)
                .where(source.c.id.between(low, high), sa.or_(stat.c.id.is_(None), *wrong)))
        live = {name: _count(table, column, owner)
                for name, (table, column) in counters.items()}
        now = utcnow()
        async with self.db.transaction() as conn:
            rows = (await conn.execute(find)).all()
            drifted = [r.id for r in rows if r.stat_id is not None]
            if len(drifted) < len(rows):  # one INSERT ... SELECT over the range, counts from the GROUP BYs
                stamp = sa.literal(now, tables.UTCDateTime())
                await conn.execute(insert_ignore(stat).from_select(
                    [owner.name, *true_values, 'created_at', 'updated_at'],
                    sa.select(source.c.id, *true_values.values(), stamp, stamp)
                    .select_from(counted)
                    .where(source.c.id.between(low, high),
                           ~sa.exists().where(owner == source.c.id))))
            for batch in _batches(drifted):
                await conn.execute(stat.update().where(owner.in_(batch))
                                   .values(**live, updated_at=now))
            orphans = await self._delete_orphans(conn, stat, owner, source, low, high)
        return len(rows) + orphans

    @staticmethod
    async def _delete_orphans(conn, stat, owner, source, low, high) -> int:
        """Stat rows whose user or post is gone. Rare, and finding them is an
        anti-join, so two index-only counts first tell whether there are any: once
        the missing rows are in, every source has a stat row, so any surplus of
        stat rows is orphans."""
        sources, stats = (await conn.execute(sa.select(
            sa.select(sa.func.count()).select_from(source)
            .where(source.c.id.between(low, high)).scalar_subquery(),
            sa.select(sa.func.count()).select_from(stat)
            .where(owner.between(low, high)).scalar_subquery()))).one()
        if stats <= sources:
            return 0
        result = await conn.execute(stat.delete().where(
            owner.between(low, high), ~sa.exists().where(source.c.id == owner)))
        return max(result.rowcount, 0)

    async def reconcile_users(self, low: int, high: int) -> int:
        return await self._reconcile(user_stat, user_stat.c.user_id, user, USER_COUNTERS,
                                     low, high)

    async def reconcile_posts(self, low: int, high: int) -> int:
        return await self._reconcile(post_stat, post_stat.c.post_id, post, POST_COUNTERS,
                                     low, high)

    async def user_stat(self, user_id: int) -> dict | None:
        async with self.db.connection() as conn:
            result = await conn.execute(user_stat.select().where(user_stat.c.user_id == user_id))
            return row_dict(result.mappings().first())

    async def post_stat(self, post_id: int) -> dict | None:
        async with self.db.connection() as conn:
            result = await conn.execute(post_stat.select().where(post_stat.c.post_id == post_id))
            return row_dict(result.mappings().first())


def _batches(ids: list[int], size: int = WRITE_BATCH):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
