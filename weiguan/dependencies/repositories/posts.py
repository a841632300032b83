"""Posts and their pages. Publishing and deleting change the counters in the same
transaction (see counters.py). Every page is one statement with the post_stat row
joined in, walking an index in order: post(user_id, id) for a user's posts and the
home timeline, post_like(user_id, id) for a user's likes."""
import sqlalchemy as sa

from .. import tables
from . import counters
from .base import Repository
from .users import split_prefixed

post, post_stat, post_like = tables.post, tables.post_stat, tables.post_like
user_follow, user_stat = tables.user_follow, tables.user_stat

STAT_COLUMNS = [c.label(f'stat_{c.name}') for c in post_stat.c]


def with_stat(source: sa.FromClause = post) -> sa.Select:
    """Post columns plus the post's stat row (as stat_*) from `source`."""
    return (sa.select(post, *STAT_COLUMNS)
            .select_from(source.outerjoin(post_stat, post_stat.c.post_id == post.c.id)))


class PostRepository(Repository):
    table = post

    async def create(self, user_id: int, type: str, text: str, image_ids: list[int],
                     video_id: int | None) -> dict:
        """The post, its stat row and the author's post count, in one transaction."""
        async with self.db.transaction() as conn:
            result = await conn.execute(post.insert().values(
                user_id=user_id, type=type, text=text, image_ids=image_ids,
                video_id=video_id))
            post_id = result.inserted_primary_key[0]
            await conn.execute(post_stat.insert().values(post_id=post_id))
            await counters.add_to_user(self.db, conn, user_id, post_count=1)
            return await self._one(conn, post_id)

    async def get_with_stat(self, id: int) -> dict | None:
        async with self.db.connection() as conn:
            return await self._one(conn, id)

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
            await counters.add_to_user(self.db, conn, user_id, post_count=-1)
        return True

    async def published(self, user_id: int, limit: int, offset: int) -> list[dict]:
        """The user's posts, newest first."""
        return await self._page(with_stat().where(post.c.user_id == user_id)
                                .order_by(post.c.id.desc()).limit(limit).offset(offset))

    async def liked(self, user_id: int, limit: int, offset: int) -> list[dict]:
        """The posts the user liked, newest like first."""
        source = post_like.join(post, post.c.id == post_like.c.post_id)
        return await self._page(with_stat(source).where(post_like.c.user_id == user_id)
                                .order_by(post_like.c.id.desc()).limit(limit).offset(offset))

    async def timeline(self, follower_id: int, limit: int, before_id: int | None = None,
                       after_id: int | None = None) -> list[dict]:
        """Posts of the users `follower_id` follows, newest first: the newest `limit`,
        or the `limit` just older than `before_id`, or the `limit` just newer than
        `after_id`. A range on post(user_id, id) per followed user; no OFFSET.

        A deferred join: the page's ids are picked from the indexes alone (the
        follows and post(user_id, id)), then only those rows are read with their
        stats. Joining the stats before the sort read every candidate post in full
        (21 ms a page for a user following 200 authors, 2 ms this way)."""
        ids = (sa.select(post.c.id)
               .select_from(user_follow.join(post, post.c.user_id == user_follow.c.following_id))
               .where(user_follow.c.user_id == follower_id).limit(limit))
        if after_id is not None:
            # the nearest newer ones are the oldest above after_id: walk up, then flip
            ids = ids.where(post.c.id > after_id).order_by(post.c.id.asc())
        else:
            if before_id is not None:
                ids = ids.where(post.c.id < before_id)
            ids = ids.order_by(post.c.id.desc())
        page = ids.subquery('page')
        return await self._page(with_stat(post.join(page, page.c.id == post.c.id))
                                .order_by(post.c.id.desc()))

    async def timeline_total(self, follower_id: int) -> int:
        """How many posts the timeline holds: the sum of the followed users' post
        counts, which are exact (kept in the publishing/deleting transaction), so no
        COUNT over the post table."""
        query = (sa.select(sa.func.coalesce(sa.func.sum(user_stat.c.post_count), 0))
                 .select_from(user_follow.join(
                     user_stat, user_stat.c.user_id == user_follow.c.following_id))
                 .where(user_follow.c.user_id == follower_id))
        async with self.db.connection() as conn:
            return int((await conn.execute(query)).scalar_one())

    @staticmethod
    async def _one(conn, id: int) -> dict | None:
        row = (await conn.execute(with_stat().where(post.c.id == id))).mappings().first()
        return None if row is None else split_prefixed(row, 'stat_')

    async def _page(self, query: sa.Select) -> list[dict]:
        async with self.db.connection() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [split_prefixed(row, 'stat_') for row in rows]
