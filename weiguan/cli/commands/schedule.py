import asyncio
import logging
import time
from datetime import datetime, timezone

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ..progress import Progress
from .serving import start_serving

log = logging.getLogger(__name__)

JOBS = ('stat_user', 'stat_post')


async def _with_progress(label: str, reconcile) -> int:
    progress = Progress(label, unit='id')
    try:
        return await reconcile(progress)
    finally:
        progress.close()


class ScheduleCommand:
    """python -m weiguan.cli.app schedule run [stat_user|stat_post] [--user_id N|--post_id N]"""

    def __init__(self, stat_service, job_locks, interval: int, jobs=None, metrics=None,
                 metrics_address: tuple[str, int] | None = None):
        self.stats = stat_service
        self.locks = job_locks
        self.interval = interval
        self.jobs = jobs  # the JobRunner: a span and the metrics of each run
        self.metrics = metrics
        self.metrics_address = metrics_address  # (host, port) of our own /metrics

    # `run <task>` is the command; the jobs and the scheduled run are not listed.
    async def _stat_user(self, user_id: int | None = None):
        """Reconcile user stats: one user (prints its row) or all (prints a summary)."""
        if user_id is not None:
            return await self.stats.reconcile_user(int(user_id)) or f'no user {user_id}'

        started = time.monotonic()
        repaired = await _with_progress('stat_user', self.stats.reconcile_users)
        return f'stat_user: {repaired} rows repaired in {time.monotonic() - started:.2f} s'

    async def _stat_post(self, post_id: int | None = None):
        """Reconcile post stats: one post (prints its row) or all (prints a summary)."""
        if post_id is not None:
            return await self.stats.reconcile_post(int(post_id)) or f'no post {post_id}'

        started = time.monotonic()
        repaired = await _with_progress('stat_post', self.stats.reconcile_posts)
        return f'stat_post: {repaired} rows repaired in {time.monotonic() - started:.2f} s'

    async def run(self, task: str | None = None, user_id: int | None = None,
                  post_id: int | None = None):
        """Without a task: run every job on an interval until stopped. With one:
        run that job once."""
        if task is None:
            return await self._serve()
        if task == 'stat_user':
            return await self._stat_user(user_id)
        if task == 'stat_post':
            return await self._stat_post(post_id)
        raise SystemExit(f'unknown task {task!r}; choose one of: {", ".join(JOBS)}')

    async def _run_job(self, job: str) -> str:
        """One scheduled run of `job`, observed by the JobRunner (span, metrics)."""
        if self.jobs is None:
            return await self._run_locked(job)
        return await self.jobs.run(job, lambda: self._run_locked(job))

    async def _run_locked(self, job: str) -> str:
        """Run `job`, or skip it when another scheduler holds its lock."""
        async with self.locks.hold(job, ttl=max(self.interval * 2, 60)) as acquired:
            if not acquired:
                log.info('%s: another scheduler is running it; skipped', job)
                return 'skipped'
            reconcile = (self.stats.reconcile_users if job == 'stat_user'
                         else self.stats.reconcile_posts)
            started = time.monotonic()
            repaired = await reconcile()
            log.info('%s: %d rows repaired in %.2f s', job, repaired,
                     time.monotonic() - started)
            return 'done'

    def _on_job_error(self, event: JobExecutionEvent) -> None:
        log.error('job %s failed: %r', event.job_id, event.exception,
                  exc_info=event.exception)

    def _scheduler(self) -> AsyncIOScheduler:
        """Every job on the interval, the first runs at once; failures logged."""
        scheduler = AsyncIOScheduler(timezone=timezone.utc)
        for job in JOBS:
            scheduler.add_job(self._run_job, 'interval', args=[job], id=job,
                              seconds=self.interval, max_instances=1, coalesce=True,
                              next_run_time=datetime.now(timezone.utc))
        scheduler.add_listener(self._on_job_error, EVENT_JOB_ERROR)
        return scheduler

    async def _serve(self, stop: asyncio.Event | None = None,
                     scheduler: AsyncIOScheduler | None = None) -> str:
        """Run every job on the interval until SIGINT/SIGTERM (or `stop` is set).
        (`scheduler`: one from _scheduler() that a test watches.)"""
        scheduler = scheduler or self._scheduler()
        stop = start_serving(stop, self.metrics, self.metrics_address)
        scheduler.start()
        log.info('scheduler started: %s every %d s', ', '.join(JOBS), self.interval)
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
        return 'scheduler stopped'
