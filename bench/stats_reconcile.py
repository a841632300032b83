"""Times one full stats reconcile on MariaDB at scale.

    .venv/bin/python bench/stats_reconcile.py [--users 100000 --posts 1000000
        --likes 1000000 --follows 500000] [--db weiguan_bench]

Seeds the database (MariaDB's SEQUENCE engine generates the rows server-side, so
seeding is a handful of INSERT ... SELECT statements), reusing the seed when the row
counts already match. Then it times three reconciles: from empty stat tables (every
row created), after corrupting 1% of the counters, and with nothing to repair.
"""
import argparse
import asyncio
import os
import sys
import time

import sqlalchemy as sa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from weiguan.config import load_config  # noqa: E402
from weiguan.container import build_container  # noqa: E402
from weiguan.dependencies import tables  # noqa: E402


def seed_statements(users: int, posts: int, likes: int, follows: int) -> list[str]:
    now = 'UTC_TIMESTAMP()'
    return [
        f"INSERT INTO user (id, username, password, intro, created_at, updated_at) "
        f"SELECT seq, CONCAT('user', seq), 'x', '', {now}, {now} FROM seq_1_to_{users}",
        f"INSERT INTO post (user_id, type, text, image_ids, created_at, updated_at) "
        f"SELECT 1 + seq % {users}, 'text', 'hello', '[]', {now}, {now} "
        f"FROM seq_1_to_{posts}",
        # (seq mod users, seq*7919 mod posts) never repeats a pair for seq <= 10 * users
        f"INSERT IGNORE INTO post_like (user_id, post_id, created_at, updated_at) "
        f"SELECT 1 + seq % {users}, 1 + (seq * 7919) % {posts}, {now}, {now} "
        f"FROM seq_1_to_{likes}",
        f"INSERT IGNORE INTO user_follow (user_id, following_id, created_at, updated_at) "
        f"SELECT 1 + seq % {users}, 1 + (seq DIV {users} * 997 + seq * 13) % {users}, "
        f"{now}, {now} FROM seq_1_to_{follows}",
    ]


async def count(conn, table) -> int:
    return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def main(args) -> None:
    # No deadline on a database block (MYSQL_TIMEOUT): the seed writes up to a million
    # rows per statement. (The reconcile, measured at this scale, also runs within the
    # default 10 s per chunk.)
    config = load_config(MYSQL_HOST=args.host, MYSQL_DB=args.db, MYSQL_USER='root',
                         MYSQL_PASSWORD='', MYSQL_TIMEOUT=0)
    import pymysql
    pymysql.connect(host=args.host, user='root').cursor().execute(
        f'CREATE DATABASE IF NOT EXISTS {args.db} CHARACTER SET utf8mb4')
    container = build_container(config)
    await container.init_resources()
    database = await container.database()
    await (await container.schema_migrations()).bring_to_head()
    wanted = {tables.user: args.users, tables.post: args.posts}
    async with database.connection() as conn:
        have = {t: await count(conn, t) for t in wanted}
    if have != wanted:
        print('seeding ...', flush=True)
        started = time.monotonic()
        async with database.transaction() as conn:
            for table in (tables.user, tables.post, tables.post_like, tables.user_follow,
                          tables.user_stat, tables.post_stat):
                await conn.execute(sa.text(f'TRUNCATE TABLE `{table.name}`'))
        for statement in seed_statements(args.users, args.posts, args.likes, args.follows):
            async with database.transaction() as conn:
                await conn.execute(sa.text(statement))
        print(f'seeded in {time.monotonic() - started:.1f} s')
    async with database.connection() as conn:
        sizes = {t.name: await count(conn, t) for t in
                 (tables.user, tables.post, tables.post_like, tables.user_follow)}
    print('rows:', sizes)
    service = await container.stat_service()

    async def timed(label: str) -> None:
        # The scheduler runs the two jobs side by side, as here (one connection each).
        started = time.monotonic()
        users, posts = await asyncio.gather(service.reconcile_users(),
                                            service.reconcile_posts())
        print(f'{label}: {time.monotonic() - started:.2f} s '
              f'({users} user rows and {posts} post rows repaired)', flush=True)

    async with database.transaction() as conn:
        await conn.execute(sa.text('TRUNCATE TABLE user_stat'))
        await conn.execute(sa.text('TRUNCATE TABLE post_stat'))
    await timed('full reconcile from empty stat tables')
    async with database.transaction() as conn:
        await conn.execute(sa.text('UPDATE user_stat SET post_count = post_count + 1 '
                                   'WHERE user_id % 100 = 0'))
        await conn.execute(sa.text('UPDATE post_stat SET like_count = like_count + 1 '
                                   'WHERE post_id % 100 = 0'))
    await timed('full reconcile repairing 1% drift')
    await timed('full reconcile with nothing to repair')
    await container.shutdown_resources()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--db', default='weiguan_bench')
    parser.add_argument('--users', type=int, default=100_000)
    parser.add_argument('--posts', type=int, default=1_000_000)
    parser.add_argument('--likes', type=int, default=1_000_000)
    parser.add_argument('--follows', type=int, default=500_000)
    asyncio.run(main(parser.parse_args()))
