"""The stats scheduler: locks, error handling, and the CLI commands."""
import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from weiguan.cli.commands.schedule import JOBS, ScheduleCommand
from weiguan.dependencies.jobs import JobRunner
from weiguan.dependencies.locks import NoJobLocks, RedisJobLocks
from weiguan.dependencies.metrics import Metrics

from tests.support.servers import REDIS_URI, requires_redis
from tests.integration.test_stats_reconcile import seed


class CountingStats:
    """A StatService fake: counts runs, fails the first `failures` of them; a run
    waits for `gate` when one is given (to hold a lock while another tries)."""

    def __init__(self, failures: int = 0, gate: asyncio.Event | None = None):
        self.runs = 0
        self.failures = failures
        self.gate = gate
        self.started = asyncio.Event()

    async def reconcile_users(self, progress=None) -> int:
        self.runs += 1
        self.started.set()
        if self.runs <= self.failures:
            raise RuntimeError('database hiccup')
        if self.gate is not None:
            await self.gate.wait()
        return 0

    reconcile_posts = reconcile_users


async def test_scheduler_keeps_running_after_a_job_fails(caplog):
    stats = CountingStats(failures=1)
    metrics = Metrics()
    command = ScheduleCommand(stats, NoJobLocks(), interval=3600,
                              jobs=JobRunner(metrics=metrics))
    scheduler = command._scheduler()
    finished: asyncio.Queue[JobExecutionEvent] = asyncio.Queue()
    scheduler.add_listener(finished.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    stop = asyncio.Event()
    serving = asyncio.create_task(command._serve(stop, scheduler))

    async def two_runs() -> set[str]:
        events = [await asyncio.wait_for(finished.get(), 10) for _ in range(2)]
        return {event.job_id for event in events}

    assert await two_runs() == {'stat_user', 'stat_post'}  # both at start, one failed
    assert 'database hiccup' in caplog.text
    # An interval later (APScheduler told that their time has come): both run again.
    for job in scheduler.get_jobs():
        assert job.next_run_time > datetime.now(timezone.utc) + timedelta(seconds=3000)
        job.modify(next_run_time=datetime.now(timezone.utc))
    scheduler.wakeup()
    assert await two_runs() == {'stat_user', 'stat_post'}
    stop.set()
    assert await serving == 'scheduler stopped'
    assert stats.runs == 4
    # Each scheduled run went through the JobRunner: counted by outcome.
    def runs(outcome: str) -> float:
        return sum(metrics.registry.get_sample_value(
            'weiguan_job_runs_total', {'job_name': job, 'outcome': outcome}) or 0
            for job in JOBS)
    assert (runs('ok'), runs('failed')) == (3, 1)


@requires_redis
async def test_redis_lock_keeps_a_second_scheduler_idle():
    from weiguan.dependencies.kv import create_redis
    client = create_redis(REDIS_URI)
    try:
        first_stats, second_stats = CountingStats(gate=asyncio.Event()), CountingStats()
        first = ScheduleCommand(first_stats, RedisJobLocks(client, 'test:lock:'), 60)
        second = ScheduleCommand(second_stats, RedisJobLocks(client, 'test:lock:'), 60)
        running = asyncio.create_task(first._run_locked('stat_user'))
        await asyncio.wait_for(first_stats.started.wait(), 10)  # it holds the lock
        assert await second._run_locked('stat_user') == 'skipped'
        first_stats.gate.set()
        assert await running == 'done'
        assert first_stats.runs + second_stats.runs == 1
        # released after the run: the next run of either goes ahead
        assert await second._run_locked('stat_user') == 'done'
    finally:
        await client.aclose()


async def test_without_redis_every_run_goes_ahead():
    stats = CountingStats()
    command = ScheduleCommand(stats, NoJobLocks(), 60)
    assert await command._run_locked('stat_post') == 'done'
    assert stats.runs == 1


def cli_env(config: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
    env['WG_DATA_PATH'] = config['DATA_PATH']
    for key in ('MYSQL_HOST', 'MYSQL_PORT', 'MYSQL_DB', 'MYSQL_USER', 'MYSQL_PASSWORD',
                'REDIS_URI'):
        if config[key] is not None:
            env['WG_' + key] = str(config[key])
    return env


def cli(config: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'weiguan.cli.app', *args],
                          env=cli_env(config), capture_output=True, text=True, timeout=60,
                          **kwargs)


async def test_cli_runs_one_job_once(container, config):
    database = await container.database()
    first_posts = await seed(database, users=3)
    result = cli(config, 'schedule', 'run', 'stat_user', '--user_id', '1')
    assert result.returncode == 0, result.stderr
    assert 'follower_count:  2' in result.stdout and 'post_count:      3' in result.stdout
    result = cli(config, 'schedule', 'run', 'stat_post', '--post_id', str(first_posts[0]))
    assert result.returncode == 0, result.stderr
    assert 'like_count: 3' in result.stdout
    result = cli(config, 'schedule', 'run', 'stat_post')
    assert result.returncode == 0, result.stderr
    assert 'stat_post: 8 rows repaired' in result.stdout  # 9 posts, one done above
    result = cli(config, 'schedule', 'run', 'stat_user', '--user_id', '42')
    assert 'no user 42' in result.stdout


async def test_cli_scheduler_stops_cleanly_on_sigterm(container, config):
    await seed(await container.database(), users=2)
    env = cli_env(config) | {'WG_STAT_INTERVAL': '1'}
    process = await asyncio.create_subprocess_exec(
        sys.executable, '-m', 'weiguan.cli.app', 'schedule', 'run', env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    err = ''
    try:
        while 'stat_user: 2 rows repaired' not in err:  # its first run, at start
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, f'the scheduler ended early: {err}'
            err += line.decode()
    except BaseException:
        process.kill()
        raise
    process.send_signal(signal.SIGTERM)
    out, rest = await asyncio.wait_for(process.communicate(), 20)
    err += rest.decode()
    assert process.returncode == 0, err
    assert 'scheduler stopped' in out.decode()


async def test_cli_refuses_an_unknown_task(config):
    result = cli(config, 'schedule', 'run', 'stat_everything')
    assert result.returncode != 0
    assert 'unknown task' in result.stderr + result.stdout
