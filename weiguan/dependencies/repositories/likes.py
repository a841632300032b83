import sqlalchemy as sa

from .. import tables
from . import counters
from ..prepared import Prepared
from .base import IDS, Repository, param

post, post_like = tables.post, tables.post_like


LIKED_AMONG = Prepared(sa.select(post_like.c.post_id).where(
    post_like.c.user_id == param('user_id'), post_like.c.post_id.in_(IDS)))


class LikeRepository(Repository):
    table = post_like

    async def like(self, user_id: int, post_id: int) -> bool:
        """Record the like and count it for the post and the liker. False when the
        post does not exist; Duplicate (from the unique index) when liked already."""
        # INSERT ... SELECT with a share lock on the post row: written only if the post
        # exists, and a concurrent delete (which locks that row) waits for this one.
        target = (sa.select(sa.literal(user_id), post.c.id).where(post.c.id == post_id)
                  .with_for_update(read=True))
        async with self.db.transaction() as conn:
            inserted = (await conn.execute(post_like.insert().from_select(
                ['user_id', 'post_id'], target))).rowcount
            if not inserted:
                return False
            await counters.add_to_post(self.db, conn, post_id, like_count=1)
            await counters.add_to_user(self.db, conn, user_id, like_count=1)
        return True

    async def unlike(self, user_id: int, post_id: int) -> bool:
        """Remove the like and uncount it; False when there was none."""
        async with self.db.transaction() as conn:
            deleted = (await conn.execute(post_like.delete().where(
                post_like.c.user_id == user_id, post_like.c.post_id == post_id))).rowcount
            if not deleted:
                return False
            await counters.add_to_post(self.db, conn, post_id, like_count=-1)
            await counters.add_to_user(self.db, conn, user_id, like_count=-1)
        return True

    async def liked_among(self, user_id: int, post_ids) -> set[int]:
        """Which of `post_ids` the user likes, in one statement."""
        post_ids = {i for i in post_ids if i is not None}
        if not post_ids:
            return set()
        rows = await self.db.fetch_all(LIKED_AMONG, user_id=user_id, ids=list(post_ids))
        return {row['post_id'] for row in rows}
