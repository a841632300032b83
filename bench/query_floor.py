"""The CPU floor of one request's I/O on this stack, measured piece by piece.

    .venv/bin/python bench/query_floor.py [--count 2000] [--db weiguan_bench_floor]

Each line is the server-side Python CPU (process time) of one operation, done
sequentially COUNT times: MariaDB and Redis work in other processes and do not
count. Set against the bare Sanic baseline's cost per request (1 / its req/s), it
shows how many requests per second a scenario could reach at best when its handler
did nothing but the listed I/O.

The hot statements are the repositories' own, run through `Database` as the server
runs them: the read of /account/info (a user with its stats and avatar file, one
statement), of /post/info (a post with its stat), a home timeline page (20 posts of
20 followed authors, posts.py TIMELINE) and a like transaction (like + unlike, two
transactions of three statements). Each runs on every way there is to MariaDB:

- engine/aiomysql, engine/asyncmy: SQLAlchemy's async engine (`mysql+<driver>`);
- driver/aiomysql: the prepared path (prepared.py's plans on aiomysql's own pools);
- driver/asyncmy: the same plans on asyncmy's own pools (written here only);
- text/<driver>: the engine's connection, but the statement's SQL text compiled once
  (prepared.py's Plan) and run with exec_driver_sql: what SQLAlchemy's per-execution
  cache key and execution context cost.

The data (200 users with avatars, 20 followed authors with 100 posts each) is created
in MYSQL_DB (WG_BENCH_MYSQL_DB, default weiguan_bench_floor) when missing. MariaDB is
WG_TEST_MYSQL_HOST/PORT/USER/PASSWORD (127.0.0.1:3306, root), Redis WG_BENCH_REDIS_URI
(redis://127.0.0.1:6379/14).
"""
import argparse
import asyncio
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

USERS, AUTHORS, POSTS_EACH, PAGE = 200, 20, 100, 20


async def per_op(label: str, operation, count: int) -> float:
    for _ in range(50):  # warm caches and the pool
        await operation()
    started = time.process_time()
    for _ in range(count):
        await operation()
    micros = (time.process_time() - started) / count * 1e6
    print(f'{label:<58} {micros:7.0f} µs CPU', flush=True)
    return micros


def mysql_settings(db: str) -> dict:
    env = os.environ
    return dict(MYSQL_HOST=env.get('WG_TEST_MYSQL_HOST', '127.0.0.1'),
                MYSQL_PORT=int(env.get('WG_TEST_MYSQL_PORT', 3306)),
                MYSQL_USER=env.get('WG_TEST_MYSQL_USER', 'root'),
                MYSQL_PASSWORD=env.get('WG_TEST_MYSQL_PASSWORD', ''), MYSQL_DB=db)


async def seed(database) -> None:
    """The bench's rows, unless they are there: ids are fixed (user i, its avatar
    file i, the reader USERS+1 following users 1..AUTHORS)."""
    import sqlalchemy as sa

    from weiguan.dependencies import tables
    async with database.transaction() as conn:
        await conn.run_sync(tables.metadata.create_all)
        if (await conn.execute(sa.select(sa.func.count()).select_from(tables.post))
                ).scalar() == AUTHORS * POSTS_EACH:
            return
        for table in reversed(tables.metadata.sorted_tables):
            await conn.execute(sa.delete(table))
        reader = USERS + 1
        await conn.execute(tables.user.insert(), [
            dict(id=i, username=f'floor{i}', password='x' * 97, email=f'floor{i}@example.com',
                 avatar_id=i if i <= USERS else None, intro='an intro of some length')
            for i in range(1, reader + 1)])
        await conn.execute(tables.file.insert(), [
            dict(id=i, user_id=i, bucket='files', path=f'2026/12/{i:06d}.jpg',
                 meta={'type': 'image', 'width': 1080, 'height': 1350, 'size': 204_800})
            for i in range(1, USERS + 1)])
        await conn.execute(tables.user_stat.insert(), [
            dict(user_id=i, post_count=POSTS_EACH if i <= AUTHORS else 0,
                 following_count=AUTHORS if i == reader else 0,
                 follower_count=1 if i <= AUTHORS else 0) for i in range(1, reader + 1)])
        await conn.execute(tables.user_follow.insert(), [
            dict(user_id=reader, following_id=i) for i in range(1, AUTHORS + 1)])
        posts = [dict(id=n * AUTHORS + a, user_id=a, type='image' if n % 3 == 0 else 'text',
                      text=f'post {n} of author {a}, ' + 'some words ' * 8,
                      image_ids=[a] if n % 3 == 0 else [])
                 for n in range(1, POSTS_EACH + 1) for a in range(1, AUTHORS + 1)]
        await conn.execute(tables.post.insert(), posts)
        await conn.execute(tables.post_stat.insert(), [
            dict(post_id=p['id'], like_count=p['id'] % 7) for p in posts])


async def databases(config: dict):
    """(label, Database) for each way to MariaDB, and what closes them."""
    from weiguan.dependencies.database import Database, create_driver_pool, create_engine

    made = []
    for driver in ('aiomysql', 'asyncmy'):
        url = config['DB_URL'].replace('mysql+aiomysql', f'mysql+{driver}')
        url = url.replace('mysql+asyncmy', f'mysql+{driver}')
        made.append((f'engine/{driver}', Database(create_engine(url, 4, 0))))
        if driver == 'asyncmy':
            made.append(('driver/asyncmy', await AsyncmyDriver.create(made[-1][1])))
        if driver == 'aiomysql':
            engine = create_engine(url, 4, 0)
            made.append(('driver/aiomysql',
                         Database(engine, await create_driver_pool(engine, 4),
                                  await create_driver_pool(engine, 4, autocommit=False))))
    return made


class AsyncmyDriver:
    """The prepared path on asyncmy's pools: what Database.fetch_all and
    prepared_transaction do on aiomysql's, for the measure."""

    def __init__(self, database, read_pool, write_pool):
        self.engine, self.read_pool, self.write_pool = database.engine, read_pool, write_pool
        self.dialect = database.engine.dialect

    @classmethod
    async def create(cls, database):
        import asyncmy
        _, params = database.engine.dialect.create_connect_args(database.engine.url)
        return cls(database, await asyncmy.create_pool(minsize=0, maxsize=4, autocommit=True,
                                                       **params),
                   await asyncmy.create_pool(minsize=0, maxsize=4, autocommit=False, **params))

    async def fetch_all(self, prepared, **params):
        plan = prepared.plan(self.dialect, ())
        sql, args = plan.arguments(params)
        async with self.read_pool.acquire() as conn:
            async with conn.cursor() as cursor:
                await cursor.execute(sql, args)
                rows = await cursor.fetchall()
        return prepared.shape.dicts(rows, plan.result_processors)

    async def fetch_one(self, prepared, **params):
        rows = await self.fetch_all(prepared, **params)
        return rows[0] if rows else None

    def prepared_transaction(self):
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def block():
            async with self.write_pool.acquire() as conn:
                try:
                    yield Run(conn, self.dialect)
                    await conn.commit()
                except BaseException:
                    await conn.rollback()
                    raise
        return block()

    async def dispose(self):
        for pool in (self.read_pool, self.write_pool):
            pool.close()
            await pool.wait_closed()


class Run:
    def __init__(self, conn, dialect):
        self.conn, self.dialect = conn, dialect

    async def run(self, prepared, **params) -> int:
        sql, args = prepared.plan(self.dialect, ()).arguments(params)
        async with self.conn.cursor() as cursor:
            await cursor.execute(sql, args)
            return cursor.rowcount


def text_path(database):
    """fetch_all as the compiled SQL text on the engine's connection (exec_driver_sql)."""
    from weiguan.dependencies.db_engine import DRIVER_CONVERTED

    converted = DRIVER_CONVERTED if database.read_pool is not None else ()

    async def fetch_all(prepared, **params):
        plan = prepared.plan(database.engine.dialect, converted)
        sql, args = plan.arguments(params)
        async with database.connection() as conn:
            result = await conn.exec_driver_sql(sql, args)
            return prepared.shape.dicts(result.fetchall(), plan.result_processors)
    return fetch_all


async def hot_statements(label: str, database, count: int) -> dict[str, float]:
    import sqlalchemy as sa

    from weiguan.dependencies.prepared import Prepared
    from weiguan.dependencies.repositories import posts, users
    from weiguan.dependencies.repositories.likes import LikeRepository
    from weiguan.dependencies.repositories.posts import PostRepository
    from weiguan.dependencies.repositories.users import UserRepository

    reader, figures = USERS + 1, {}
    user_repo, post_repo = UserRepository(database), PostRepository(database)
    like_repo = LikeRepository(database)
    select_one = Prepared(sa.select(sa.literal(1).label('one')))
    page = await post_repo.timeline(reader, PAGE)
    assert len(page) == PAGE and page[0]['created_at'].tzinfo is not None

    async def like_pair():
        assert await like_repo.like(reader, AUTHORS + 1)
        assert await like_repo.unlike(reader, AUTHORS + 1)

    cases = [('SELECT 1', lambda: database.fetch_all(select_one)),
             ('/account/info read', lambda: user_repo.get_many_with_stats([7])),
             ('/post/info read', lambda: post_repo.get_with_stat(AUTHORS + 3)),
             ('timeline page', lambda: post_repo.timeline(reader, PAGE)),
             ('like + unlike', like_pair)]
    for name, operation in cases:
        figures[name] = await per_op(f'{label:<16} {name}', operation, count)
    if label.startswith('engine'):
        fetch_all = text_path(database)
        text = label.replace('engine', 'text')
        for name, prepared, params in (
                ('/account/info read', users.PROFILES_BY_IDS, {'ids': [7]}),
                ('/post/info read', posts.POST_WITH_STAT, {'id': AUTHORS + 3}),
                ('timeline page', posts.TIMELINE[None], {'follower_id': reader,
                                                         'limit': PAGE})):
            await per_op(f'{text:<16} {name}', lambda p=prepared, k=params: fetch_all(p, **k),
                         count)
    return figures


async def main(count: int, db: str) -> None:
    import redis.asyncio as aioredis

    from weiguan.config import load_config

    config = load_config(env={}, **mysql_settings(db))
    made = await databases(config)
    await seed(made[0][1])
    table = {}
    for label, database in made:
        table[label] = await hot_statements(label, database, count)
    redis = aioredis.from_url(os.environ.get('WG_BENCH_REDIS_URI', 'redis://127.0.0.1:6379/14'))
    await redis.set('floor', 'x' * 120)
    await per_op('redis-py: GET of a session', lambda: redis.get('floor'), count)
    await redis.aclose()
    labels = list(table)
    print('\n| operation | ' + ' | '.join(labels) + ' |')
    print('|---|' + '---:|' * len(labels))
    for name in table[labels[0]]:
        print(f'| {name} | ' + ' | '.join(f'{table[label][name]:.0f}' for label in labels)
              + ' |')
    for _, database in made:
        await database.dispose()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=2000)
    parser.add_argument('--db', default=os.environ.get('WG_BENCH_MYSQL_DB',
                                                      'weiguan_bench_floor'))
    args = parser.parse_args()
    asyncio.run(main(args.count, args.db))
