import sqlalchemy as sa

from .. import tables
from ..database import retry_conflicts
from . import counters
from ..prepared import Prepared
from .base import IDS, NOW, Repository, param

post, post_like = tables.post, tables.post_like


LIKED_AMONG = Prepared(sa.select(post_like.c.post_id).where(
    post_like.c.user_id == param('user_id'), post_like.c.post_id.in_(IDS)))

LIKED_IDS = Prepared(sa.select(post_like.c.post_id).where(post_like.c.user_id == param('user_id'))
                     .limit(param('limit')))


# INSERT ... SELECT with a share lock on the post row: written only if the post
# exists, and a concurrent delete (which locks that row) waits for this one.
LIKE = Prepared(post_like.insert().from_select(
    ['user_id', 'post_id', 'created_at', 'updated_at'],
    sa.select(param('user_id'), post.c.id, NOW, NOW).where(post.c.id == param('post_id'))
    .with_for_update(read=True)))
UNLIKE = Prepared(post_like.delete().where(post_like.c.user_id == param('user_id'),
                                           post_like.c.post_id == param('post_id')))


class LikeRepository(Repository):
    table = post_like

    @retry_conflicts
    async def like(self, user_id: int, post_id: int) -> bool:
        """Record the like and count it for the post and the liker. False when the
        post does not exist; Duplicate (from the unique index) when liked already."""
        async with self.db.prepared_transaction() as statements:
            if not await statements.run(LIKE, user_id=user_id, post_id=post_id,
                                        now=tables.utcnow()):
                return False
            await counters.add_to_post(statements, post_id, like_count=1)
            await counters.add_to_user(statements, user_id, like_count=1)
        return True

    @retry_conflicts
    async def unlike(self, user_id: int, post_id: int) -> bool:
        """Remove the like and uncount it; False when there was none."""
        async with self.db.prepared_transaction() as statements:
            if not await statements.run(UNLIKE, user_id=user_id, post_id=post_id):
                return False
            await counters.add_to_post(statements, post_id, like_count=-1)
            await counters.add_to_user(statements, user_id, like_count=-1)
        return True

    async def liked_among(self, user_id: int, post_ids) -> set[int]:
        """Which of `post_ids` the user likes, in one statement."""
        post_ids = {i for i in post_ids if i is not None}
        if not post_ids:
            return set()
        rows = await self.db.fetch_all(LIKED_AMONG, user_id=user_id, ids=list(post_ids))
        return {row['post_id'] for row in rows}

    async def liked_ids(self, user_id: int, limit: int) -> list[int]:
        """Ids of posts the user likes, at most `limit` of them, in no given order."""
        rows = await self.db.fetch_all(LIKED_IDS, user_id=user_id, limit=limit)
        return [row['post_id'] for row in rows]
