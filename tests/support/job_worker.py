"""A worker process for the process tests: the CLI's own `worker run` (the same
container, loop, signals, logging and /metrics) with test jobs registered beside
the product's.

    python -m tests.support.job_worker worker run      # WG_* settings as for the CLI

To drive a product job instead (the feeds' fan-out), enqueue it by its name: the
product's owners are registered too. To add a test job, add an owner to OWNERS."""
import asyncio
import os
import sys

import redis.asyncio as aioredis
from dependency_injector import providers

from weiguan.cli.app import main

from tests.support.processes import ConfiguredProcess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class MarkJobs:
    """`test.slow_marks(key, count, step)`: adds 0 .. count-1 to the Redis set `key`,
    one every `step` seconds, then sets `<key>:done`. Each run first appends its
    process id to the list `<key>:runs`. Idempotent: a second run adds the same
    members (what a redelivered fan-out does to a feed)."""

    def __init__(self, redis_uri: str):
        self.redis_uri = redis_uri

    def jobs(self) -> dict:
        return {'test.slow_marks': self.slow_marks}

    async def slow_marks(self, key: str, count: int, step: float) -> None:
        client = aioredis.from_url(self.redis_uri)
        try:
            await client.rpush(f'{key}:runs', os.getpid())
            for mark in range(count):
                await client.sadd(key, mark)
                await asyncio.sleep(step)
            await client.set(f'{key}:done', 1)
        finally:
            await client.aclose()


def owners() -> list:
    return [MarkJobs(os.environ['WG_REDIS_URI'])]


def add_test_owners(container) -> None:
    for owner in owners():
        container.job_owners.add_args(providers.Object(owner))


class WorkerProcess(ConfiguredProcess):
    """`python -m tests.support.job_worker worker run`, configured like `config` (two
    workers of a test may share one log file)."""

    def __init__(self, config: dict, log_path: str, **env_overrides: str):
        super().__init__('tests.support.job_worker', ['worker', 'run'], config, log_path,
                         env_overrides, log_mode='ab', cwd=ROOT)

if __name__ == '__main__':
    main(sys.argv[1:], prepare=add_test_owners)
