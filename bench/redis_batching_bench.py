"""CPU per request of the shared Redis client, one command at a time (redis-py as is)
against automatically pipelined (weiguan.dependencies.kv.create_redis), in one run.

    .venv/bin/python bench/redis_batching_bench.py [--requests 20000] [--concurrency 32]

A "request" is what an authenticated page sends: the session, then the credential
version, then two cache reads side by side; `--concurrency` of them at once. Redis:
WG_BENCH_REDIS_URI (redis://127.0.0.1:6379/9; the keys it writes are deleted)."""
import argparse
import asyncio
import os
import sys
import time

import redis.asyncio as aioredis

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from weiguan.dependencies.kv import PackedConnection, create_redis  # noqa: E402

URI = os.environ.get('WG_BENCH_REDIS_URI', 'redis://127.0.0.1:6379/9')


async def page(client) -> None:
    await client.get('bench:session')
    await client.get('bench:credential')
    await asyncio.gather(client.mget('bench:a', 'bench:b', 'bench:c'),
                         client.mget('bench:d', 'bench:e'))


async def measure(client, requests: int, concurrency: int) -> tuple[float, float]:
    """(µs of this process's CPU per request, requests per second)"""
    await client.set('bench:session', 'x' * 200)
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await page(client)
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await client.delete('bench:session')
    return cpu / requests * 1e6, requests / wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=20000)
    parser.add_argument('--concurrency', type=int, default=32)
    args = parser.parse_args()
    clients = {
        'one by one (redis-py)': lambda: aioredis.Redis.from_url(
            URI, decode_responses=True, connection_class=PackedConnection),
        'auto-pipelined': lambda: create_redis(URI),
    }
    figures: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(2):  # alternated, so that noise falls on both
        for name, make in clients.items():
            client = make()
            cpu, rate = await measure(client, args.requests, args.concurrency)
            figures[name].append(cpu)
            print(f'{name}: {cpu:.0f} µs CPU per request, {rate:,.0f} requests/s')
            await client.aclose()
    base, batched = (min(values) for values in figures.values())
    print(f'\nbest of two: {base:.0f} µs one by one, {batched:.0f} µs auto-pipelined '
          f'({batched / base:.0%} of the CPU)')


if __name__ == '__main__':
    asyncio.run(main())
