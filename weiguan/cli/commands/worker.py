import asyncio
import logging
import os

from ...entities import messages
from ...entities.errors import AppError
from ...runtime import settle_gc
from .serving import start_serving

log = logging.getLogger(__name__)


class WorkerCommand:
    """python -m weiguan.cli.app worker run [--concurrency=N]"""

    def __init__(self, jobs, concurrency: int, nice: int = 0, metrics=None,
                 metrics_address: tuple[str, int] | None = None):
        self.jobs = jobs  # the JobQueue with every owner's jobs registered
        self.concurrency = concurrency
        self.nice = nice
        self.metrics = metrics
        self.metrics_address = metrics_address  # (host, port) of our own /metrics

    async def run(self, concurrency: int | None = None):
        """Run the queued jobs (on Redis), WORKER_CONCURRENCY at once, until SIGTERM
        or SIGINT: then the jobs in hand finish or go back to the queue."""
        # built: the queue and the repositories came with the command
        log.info('garbage collector settled: %d objects frozen', settle_gc())
        return await self._serve(int(concurrency or self.concurrency))

    async def _serve(self, concurrency: int, stop: asyncio.Event | None = None) -> None:
        work = getattr(self.jobs, 'work', None)  # a JobConsumer: only the Redis queue
        if work is None:
            raise AppError(messages.WORKER_NOT_NEEDED)
        if self.nice > 0:
            # A fan-out to 100,000 feeds is seconds of CPU; where the worker shares
            # cores with servers, their answers come first (bench/timeline_scale.py:
            # publish p99 during fan-outs). Raising niceness needs no privilege.
            os.nice(self.nice)
        stop = start_serving(stop, self.metrics, self.metrics_address)
        await work(concurrency, stop)
        log.info('worker stopped')  # and nothing on stdout: LOG_FORMAT json holds
