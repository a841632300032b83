"""The job queue of the embedded default: each job runs as a task of this process,
retried with a growing delay when it fails, observed by the JobRunner. Nothing is
kept across a restart (the embedded default has a single process and nothing to
hand over to); on Redis, jobs go to a queue that worker processes consume."""
import asyncio
import logging
from typing import Any, Awaitable, Callable

from ..services.ports import JobFunction
from .jobs import JobRunner

log = logging.getLogger(__name__)


class InProcessJobs:
    def __init__(self, runner: JobRunner | None = None, retries: int = 3,
                 retry_delay: float = 0.5,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep):
        self.runner = runner or JobRunner()
        self.retries = retries
        self.retry_delay = retry_delay
        self.sleep = sleep
        self.functions: dict[str, JobFunction] = {}
        self._running: set[asyncio.Task] = set()

    def register(self, name: str, function: JobFunction) -> None:
        self.functions[name] = function

    async def enqueue(self, name: str, **arguments: Any) -> None:
        if name not in self.functions:
            raise LookupError(f'no job named {name!r}')
        carrier = self.runner.carrier()  # the run's span links to this request's
        task = asyncio.get_running_loop().create_task(self._run(name, arguments, carrier))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, name: str, arguments: dict[str, Any],
                   carrier: dict[str, str]) -> None:
        function = self.functions[name]
        for attempt in range(self.retries + 1):
            try:
                await self.runner.run(name, lambda: function(**arguments), carrier)
                return
            except Exception:
                if attempt == self.retries:
                    log.exception('job %s failed %d times, given up: %s', name,
                                  attempt + 1, arguments)
                    return
                log.warning('job %s failed (attempt %d), retrying', name, attempt + 1,
                            exc_info=True)
                await self.sleep(self.retry_delay * 2 ** attempt)

    async def drain(self) -> None:
        """Until no job is running or waiting, those enqueued meanwhile included
        (tests, and shutting down)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
