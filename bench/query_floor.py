"""The CPU floor of one request's I/O on this stack, measured piece by piece.

    .venv/bin/python bench/query_floor.py [--count 3000]

Runs against the seeded HTTP bench database (weiguan_bench_http; run
bench/http_bench.py once first) and Redis db 14. Each line is the server-side
Python CPU (process time) of one operation, done sequentially COUNT times:
MariaDB and Redis work in other processes and does not count. Set against the
bare Sanic baseline's cost per request (1 / its req/s), it shows how many
requests per second a scenario could reach at best when its handler did nothing
but the listed I/O.
"""
import argparse
import asyncio
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


async def per_op(label: str, operation, count: int) -> float:
    for _ in range(50):  # warm caches and the pool
        await operation()
    started = time.process_time()
    for _ in range(count):
        await operation()
    micros = (time.process_time() - started) / count * 1e6
    print(f'{label:<62} {micros:7.0f} µs CPU', flush=True)
    return micros


async def main(count: int) -> None:
    import aiomysql
    import redis.asyncio as aioredis
    import sqlalchemy as sa

    from weiguan.config import load_config
    from weiguan.container import build_container
    from weiguan.dependencies.prepared import Prepared

    config = load_config(MYSQL_HOST=os.environ.get('WG_TEST_MYSQL_HOST', '127.0.0.1'),
                         MYSQL_DB='weiguan_bench_http',
                         REDIS_URI='redis://127.0.0.1:6379/14')
    container = build_container(config)
    await container.init_resources()
    database = await container.database()
    users = await container.users()
    select_one = Prepared(sa.select(sa.literal(1).label('one')))

    async def engine_one():
        async with database.connection() as conn:
            await conn.execute(select_one.statement)

    _, params = database.engine.dialect.create_connect_args(database.engine.url)
    pool = await aiomysql.create_pool(autocommit=True, maxsize=2, **params)

    async def bare_one():
        async with pool.acquire() as conn:
            async with conn.cursor() as cursor:
                await cursor.execute('SELECT 1')
                await cursor.fetchall()

    redis = aioredis.from_url(config['REDIS_URI'])
    await redis.set('floor', 'x' * 120)
    await per_op('SQLAlchemy engine: SELECT 1 (checkout + execute)', engine_one, count)
    await per_op('aiomysql alone: SELECT 1', bare_one, count)
    await per_op('weiguan prepared read: SELECT 1', lambda: database.fetch_all(select_one),
                 count)
    await per_op('weiguan prepared read: one user profile (24 columns)',
                 lambda: users.get_many_with_stats([7]), count)
    await per_op('redis-py: GET of a session', lambda: redis.get('floor'), count)
    pool.close()
    await pool.wait_closed()
    await redis.aclose()
    await container.shutdown_resources()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=3000)
    asyncio.run(main(parser.parse_args().count))
