"""Posts and their pages. Publishing and deleting change the counters in the same
transaction (see counters.py). Every page is one statement with the post_stat row
joined in, walking an index in order: post(user_id, id) for a user's posts and the
home timeline, post_like(user_id, id) for a user's likes."""
import sqlalchemy as sa

from .. import tables
from . import counters
from ..database import EngineStatements, retry_conflicts
from ..prepared import Prepared
from .base import IDS, Repository, param

post, post_stat, post_like = tables.post, tables.post_stat, tables.post_like
user_follow, user_stat = tables.user_follow, tables.user_stat

STAT_COLUMNS = [c.label(f'stat_{c.name}') for c in post_stat.c]
NEST = ('stat_',)  # rows carry the stat row as a dict under 'stat'


def with_stat(source: sa.FromClause = post) -> sa.Select:
    """Post columns plus the post's stat row (as stat_*) from `source`."""
    return (sa.select(post, *STAT_COLUMNS)
            .select_from(source.outerjoin(post_stat, post_stat.c.post_id == post.c.id)))


def _timeline(direction: str | None) -> Prepared:
    """The timeline page: the newest `limit` posts of the users `follower_id`
    follows, or the `limit` just older than `before_id` ('before'), or the `limit`
    just newer than `after_id` ('after'). A range on post(user_id, id) per followed
    user; no OFFSET.

    A deferred join: the page's ids are picked from the indexes alone (the follows
    and post(user_id, id)), then only those rows are read with their stats. Joining
    the stats before the sort read every candidate post in full (21 ms a page for a
    user following 200 authors, 2 ms this way)."""
    ids = (sa.select(post.c.id)
           .select_from(user_follow.join(post, post.c.user_id == user_follow.c.following_id))
           .where(user_follow.c.user_id == param('follower_id')).limit(param('limit')))
    if direction == 'after':
        # the nearest newer ones are the oldest above after_id: walk up, then flip
        ids = ids.where(post.c.id > param('after_id')).order_by(post.c.id.asc())
    else:
        if direction == 'before':
            ids = ids.where(post.c.id < param('before_id'))
        ids = ids.order_by(post.c.id.desc())
    page = ids.subquery('page')
    return Prepared(with_stat(post.join(page, page.c.id == post.c.id))
                    .order_by(post.c.id.desc()), nest=NEST)


TIMELINE = {direction: _timeline(direction) for direction in (None, 'before', 'after')}
TIMELINE_TOTAL = Prepared(
    sa.select(sa.func.coalesce(sa.func.sum(user_stat.c.post_count), 0).label('total'))
    .select_from(user_follow.join(user_stat,
                                  user_stat.c.user_id == user_follow.c.following_id))
    .where(user_follow.c.user_id == param('follower_id')))
POSTS_WITH_STAT = Prepared(with_stat().where(post.c.id.in_(IDS)), nest=NEST)
STATS_BY_IDS = Prepared(post_stat.select().where(post_stat.c.post_id.in_(IDS)))
POST_WITH_STAT = Prepared(with_stat().where(post.c.id == param('id')), nest=NEST)
PUBLISHED = Prepared(with_stat().where(post.c.user_id == param('user_id'))
                     .order_by(post.c.id.desc()).limit(param('limit')).offset(param('offset')),
                     nest=NEST)
LIKED = Prepared(with_stat(post_like.join(post, post.c.id == post_like.c.post_id))
                 .where(post_like.c.user_id == param('user_id'))
                 .order_by(post_like.c.id.desc()).limit(param('limit')).offset(param('offset')),
                 nest=NEST)

AUTHOR_IDS = Prepared(sa.select(post.c.id).where(post.c.user_id == param('user_id'))
                      .order_by(post.c.id.desc()).limit(param('limit')))
_BETWEEN = sa.select(post.c.id).where(post.c.user_id.in_(IDS), post.c.id > param('lower'),
                                      post.c.id < param('upper')).limit(param('limit'))
IDS_OF = {True: Prepared(_BETWEEN.order_by(post.c.id.desc())),
          False: Prepared(_BETWEEN.order_by(post.c.id.asc()))}


def _rebuild() -> Prepared:
    """A cold feed's ids and the timeline's total, in one statement, without
    reading every followed post: each followed author's newest post id (one dive
    into post(user_id, id) per follow), the `limit` authors with the highest; the
    newest `limit` posts overall are theirs, none older than the `limit`-th of those
    newest posts (each of those authors has one at least as new), so one range per
    author above it. With fewer authors than `limit`, all of theirs."""
    latest = (sa.select(sa.func.max(post.c.id)).where(post.c.user_id == user_follow.c.following_id)
              .correlate(user_follow).scalar_subquery().label('latest'))
    top = (sa.select(user_follow.c.following_id.label('author'), latest)
           .where(user_follow.c.user_id == param('follower_id'))
           .order_by(sa.desc('latest')).limit(param('limit')).cte('top'))
    floor = sa.case((sa.select(sa.func.count(top.c.latest)).scalar_subquery() >= param('limit'),
                     sa.select(sa.func.min(top.c.latest)).scalar_subquery() - 1), else_=0)
    recent = (sa.select(post.c.id).select_from(post.join(top, post.c.user_id == top.c.author))
              .where(post.c.id > floor).order_by(post.c.id.desc()).limit(param('limit'))
              .subquery('recent'))
    return Prepared(sa.select(recent.c.id, TIMELINE_TOTAL.statement.scalar_subquery()
                              .label('total')).order_by(recent.c.id.desc()))


REBUILD = _rebuild()

class PostRepository(Repository):
    table = post

    @retry_conflicts
    async def create(self, user_id: int, type: str, text: str, image_ids: list[int],
                     video_id: int | None) -> dict:
        """The post, its stat row and the author's post count, in one transaction."""
        async with self.db.transaction() as conn:
            result = await conn.execute(post.insert().values(
                user_id=user_id, type=type, text=text, image_ids=image_ids,
                video_id=video_id))
            post_id = result.inserted_primary_key[0]
            await conn.execute(post_stat.insert().values(post_id=post_id))
            await counters.add_to_user(EngineStatements(conn), user_id, post_count=1)
            return await self._one(conn, post_id)

    async def get_with_stat(self, id: int) -> dict | None:
        return await self.db.fetch_one(POST_WITH_STAT, id=id)

    def held(self, id: int) -> dict | None:
        """Nothing is held in the process here (CachedPostRepository holds bodies)."""
        return None

    async def get_many_with_stat(self, ids) -> dict[int, dict]:
        """Posts by id with their stat rows, in one statement (a page of ids; a
        deleted one is absent)."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return {}
        return {row['id']: row for row in await self.db.fetch_all(POSTS_WITH_STAT,
                                                                   ids=list(ids))}

    async def stats_many(self, ids) -> dict[int, dict]:
        """Only the stat rows, by post id (the cached bodies' mutable part: a post
        without one is deleted, as its delete removes both in one transaction)."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return {}
        return {row['post_id']: row for row in await self.db.fetch_all(STATS_BY_IDS,
                                                                         ids=list(ids))}

    @retry_conflicts
    async def delete(self, id: int, user_id: int) -> bool:
        """Delete the author's post with its likes and stat row, uncounting it for the
        author and every liker, in one transaction. False when there was none.
        Deleting the post row first takes its lock: a concurrent like (which reads
        the post row with a share lock) either ends before or finds no post."""
        async with self.db.transaction() as conn:
            deleted = (await conn.execute(post.delete().where(
                post.c.id == id, post.c.user_id == user_id))).rowcount
            if not deleted:
                return False
            await counters.uncount_likes_of(conn, id)
            await conn.execute(post_like.delete().where(post_like.c.post_id == id))
            await conn.execute(post_stat.delete().where(post_stat.c.post_id == id))
            await counters.add_to_user(EngineStatements(conn), user_id, post_count=-1)
        return True

    async def published(self, user_id: int, limit: int, offset: int) -> list[dict]:
        """The user's posts, newest first."""
        return await self.db.fetch_all(PUBLISHED, user_id=user_id, limit=limit, offset=offset)

    async def liked(self, user_id: int, limit: int, offset: int) -> list[dict]:
        """The posts the user liked, newest like first."""
        return await self.db.fetch_all(LIKED, user_id=user_id, limit=limit, offset=offset)

    async def timeline(self, follower_id: int, limit: int, before_id: int | None = None,
                       after_id: int | None = None) -> list[dict]:
        """Posts of the users `follower_id` follows, newest first (see _timeline)."""
        if after_id is not None:
            return await self.db.fetch_all(TIMELINE['after'], follower_id=follower_id,
                                           limit=limit, after_id=after_id)
        if before_id is not None:
            return await self.db.fetch_all(TIMELINE['before'], follower_id=follower_id,
                                           limit=limit, before_id=before_id)
        return await self.db.fetch_all(TIMELINE[None], follower_id=follower_id, limit=limit)

    async def timeline_total(self, follower_id: int) -> int:
        """How many posts the timeline holds: the sum of the followed users' post
        counts, which are exact (kept in the publishing/deleting transaction), so no
        COUNT over the post table."""
        row = await self.db.fetch_one(TIMELINE_TOTAL, follower_id=follower_id)
        return int(row['total'])

    async def author_ids(self, user_id: int, limit: int) -> list[int]:
        """The author's newest `limit` post ids, newest first (a follow's backfill)."""
        rows = await self.db.fetch_all(AUTHOR_IDS, user_id=user_id, limit=limit)
        return [row['id'] for row in rows]

    async def ids_of(self, user_ids, lower: int, upper: int, limit: int,
                     newest_first: bool) -> list[int]:
        """Post ids of these authors strictly between `lower` and `upper`: the
        `limit` newest (newest first) or the `limit` oldest (oldest first)."""
        user_ids = list(set(user_ids))
        if not user_ids:
            return []
        rows = await self.db.fetch_all(IDS_OF[newest_first], ids=user_ids, lower=lower,
                                       upper=upper, limit=limit)
        return [row['id'] for row in rows]

    async def recent_ids(self, follower_id: int, limit: int) -> tuple[list[int], int]:
        """The newest `limit` post ids of the users `follower_id` follows, newest
        first (a feed's rebuild, bounded: see _rebuild), and the timeline's total
        read with them."""
        rows = await self.db.fetch_all(REBUILD, follower_id=follower_id, limit=limit)
        return [row['id'] for row in rows], int(rows[0]['total']) if rows else 0

    @staticmethod
    async def _one(conn, id: int) -> dict | None:
        """The post as its own transaction sees it (just written)."""
        rows = await EngineStatements(conn).fetch_all(POST_WITH_STAT, id=id)
        return rows[0] if rows else None
