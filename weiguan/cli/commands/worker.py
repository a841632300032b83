import asyncio
import logging
import signal

from ...entities import messages
from ...entities.errors import AppError

log = logging.getLogger(__name__)


class WorkerCommand:
    """python -m weiguan.cli.app worker run [--concurrency=N]"""

    def __init__(self, jobs, concurrency: int, metrics=None,
                 metrics_address: tuple[str, int] | None = None):
        self.jobs = jobs  # the JobQueue with every owner's jobs registered
        self.concurrency = concurrency
        self.metrics = metrics
        self.metrics_address = metrics_address  # (host, port) of our own /metrics

    async def run(self, concurrency: int | None = None):
        """Run the queued jobs (on Redis), WORKER_CONCURRENCY at once, until SIGTERM
        or SIGINT: then the jobs in hand finish or go back to the queue."""
        return await self._serve(int(concurrency or self.concurrency))

    async def _serve(self, concurrency: int, stop: asyncio.Event | None = None) -> None:
        work = getattr(self.jobs, 'work', None)  # a JobConsumer: only the Redis queue
        if work is None:
            raise AppError(messages.WORKER_NOT_NEEDED)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if self.metrics is not None and self.metrics_address:
            host, port = self.metrics_address
            self.metrics.serve(host, port)
            log.info('metrics on http://%s:%d/metrics', host, port)
        await work(concurrency, stop)
        log.info('worker stopped')  # and nothing on stdout: LOG_FORMAT json holds
