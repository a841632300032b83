"""A worker process for the process tests: the CLI's own `worker run` (the same
container, loop, signals, logging and /metrics) with test jobs registered beside
the product's.

    python -m tests.support.job_worker worker run      # WG_* settings as for the CLI

To drive a product job instead (the feeds' fan-out), enqueue it by its name: the
product's owners are registered too. To add a test job, add an owner to OWNERS."""
import asyncio
import os
import subprocess
import sys
import time

import redis.asyncio as aioredis
from dependency_injector import providers

from weiguan.cli.app import main
from weiguan.config import SETTINGS

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


class WorkerProcess:
    """`python -m tests.support.job_worker worker run`, configured like `config`
    (every setting that differs from its default as a WG_* variable), its output in
    a file for the failure messages."""

    def __init__(self, config: dict, log_path: str, **env_overrides: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
        env.update({f'WG_{key}': str(config[key])
                    for key, (_, default, _) in SETTINGS.items()
                    if config.get(key) is not None and config[key] != default})
        env.update(env_overrides)
        self.log_path = log_path
        self._log = open(log_path, 'ab')
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'tests.support.job_worker', 'worker', 'run'], env=env,
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        with open(self.log_path, 'rb') as file:
            return file.read().decode(errors='replace')

    async def wait_exit(self, timeout: float) -> int | None:
        """The exit code, or None if still running after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.process.poll()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


if __name__ == '__main__':
    main(sys.argv[1:], prepare=add_test_owners)
