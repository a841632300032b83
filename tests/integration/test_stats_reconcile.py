"""Reconciling the stat tables on the real database (SQLite or MariaDB)."""
import sqlalchemy as sa

from weiguan.dependencies import tables
from weiguan.dependencies.tables import utcnow


async def seed(database, users=5, posts_per_user=3):
    """users 1..n; user i writes posts_per_user posts; every user likes every post of
    user 1 and follows user 1."""
    now = utcnow()
    stamp = {'created_at': now, 'updated_at': now}
    async with database.transaction() as conn:
        await conn.execute(tables.user.insert(), [
            {'id': i, 'username': f'user{i}', 'password': 'x', **stamp}
            for i in range(1, users + 1)])
        await conn.execute(tables.post.insert(), [
            {'user_id': u, 'type': 'text', 'text': 't', 'image_ids': [], **stamp}
            for u in range(1, users + 1) for _ in range(posts_per_user)])
        first_posts = (await conn.execute(sa.select(tables.post.c.id).where(
            tables.post.c.user_id == 1))).scalars().all()
        await conn.execute(tables.post_like.insert(), [
            {'user_id': u, 'post_id': p, **stamp}
            for u in range(1, users + 1) for p in first_posts])
        await conn.execute(tables.user_follow.insert(), [
            {'user_id': u, 'following_id': 1, **stamp} for u in range(2, users + 1)])
    return first_posts


async def user_stats(database) -> dict[int, tuple]:
    t = tables.user_stat
    async with database.connection() as conn:
        rows = (await conn.execute(sa.select(t.c.user_id, t.c.post_count, t.c.like_count,
                                             t.c.following_count, t.c.follower_count)))
        return {r[0]: tuple(r[1:]) for r in rows}


async def post_likes(database) -> dict[int, int]:
    t = tables.post_stat
    async with database.connection() as conn:
        return dict((await conn.execute(sa.select(t.c.post_id, t.c.like_count))).all())


async def test_reconcile_creates_missing_rows_with_exact_counts(container):
    database = await container.database()
    first_posts = await seed(database)
    service = await container.stat_service()
    assert await service.reconcile_users() == 5
    assert await service.reconcile_posts() == 15
    stats = await user_stats(database)
    # (posts, posts liked, following, followers)
    assert stats[1] == (3, 3, 0, 4)
    assert stats[2] == (3, 3, 1, 0)
    likes = await post_likes(database)
    assert len(likes) == 15
    assert all(likes[p] == 5 for p in first_posts)
    assert sum(likes.values()) == 15


async def test_reconcile_repairs_corrupted_counters_and_drops_orphans(container):
    database = await container.database()
    first_posts = await seed(database)
    service = await (container.stat_service())
    await service.reconcile_users()
    await service.reconcile_posts()
    async with database.transaction() as conn:
        await conn.execute(tables.user_stat.update().where(
            tables.user_stat.c.user_id.in_([1, 3])).values(post_count=99, follower_count=-7))
        await conn.execute(tables.post_stat.update().where(
            tables.post_stat.c.post_id == first_posts[0]).values(like_count=0))
        await conn.execute(tables.post_stat.insert().values(
            post_id=10**6, like_count=3, created_at=utcnow(), updated_at=utcnow()))
    assert await service.reconcile_users() == 2
    assert await service.reconcile_posts() == 2  # one repaired, one orphan removed
    stats = await user_stats(database)
    assert stats[1] == (3, 3, 0, 4) and stats[3] == (3, 3, 1, 0)
    likes = await post_likes(database)
    assert likes[first_posts[0]] == 5 and 10**6 not in likes
    assert await service.reconcile_users() == 0  # nothing left to repair


async def test_reconcile_one_id_and_chunking(container):
    database = await container.database()
    first_posts = await seed(database, users=7)
    service = await container.stat_service()
    service.chunk = 2  # several chunks over 7 users and 21 posts
    seen = []
    await service.reconcile_users(progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]
    assert (await user_stats(database))[1] == (3, 3, 0, 6)
    row = await service.reconcile_post(first_posts[1])
    assert row['like_count'] == 7
    assert await service.reconcile_user(999) is None


async def test_reconcile_of_an_empty_source_removes_orphans_once(container):
    database = await container.database()
    async with database.transaction() as conn:
        await conn.execute(tables.user_stat.insert().values(
            user_id=5, post_count=2, created_at=utcnow(), updated_at=utcnow()))
    service = await container.stat_service()
    seen = []
    assert await service.reconcile_users(progress=lambda *p: seen.append(p)) == 1
    assert await user_stats(database) == {}
    assert seen == [(1, 1)]  # one pass over the whole id range
