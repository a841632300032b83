"""The stats scheduler: locks, error handling, and the CLI commands."""
import asyncio
import os
import signal
import subprocess
import sys


from weiguan.cli.commands.schedule import ScheduleCommand
from weiguan.dependencies.locks import NoJobLocks, RedisJobLocks

from .conftest import REDIS_URI, requires_redis
from .test_stats_reconcile import seed


class CountingStats:
    """A StatService fake: counts runs, fails the first `failures` of them."""

    def __init__(self, failures: int = 0):
        self.runs = 0
        self.failures = failures

    async def reconcile_users(self, progress=None) -> int:
        self.runs += 1
        if self.runs <= self.failures:
            raise RuntimeError('database hiccup')
        await asyncio.sleep(0.05)
        return 0

    reconcile_posts = reconcile_users


async def test_scheduler_keeps_running_after_a_job_fails(caplog):
    stats = CountingStats(failures=1)
    command = ScheduleCommand(stats, NoJobLocks(), interval=1)
    stop = asyncio.Event()
    serving = asyncio.create_task(command._serve(stop))
    await asyncio.sleep(2.5)
    stop.set()
    assert await serving == 'scheduler stopped'
    assert stats.runs >= 4  # two jobs, at start and again after each interval
    assert 'database hiccup' in caplog.text


@requires_redis
async def test_redis_lock_keeps_a_second_scheduler_idle():
    from weiguan.dependencies.kv import create_redis
    client = create_redis(REDIS_URI)
    try:
        first_stats, second_stats = CountingStats(), CountingStats()
        first = ScheduleCommand(first_stats, RedisJobLocks(client, 'test:lock:'), 60)
        second = ScheduleCommand(second_stats, RedisJobLocks(client, 'test:lock:'), 60)
        results = await asyncio.gather(first._run_locked('stat_user'),
                                       second._run_locked('stat_user'))
        assert sorted(results) == ['done', 'skipped']
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
    process = subprocess.Popen([sys.executable, '-m', 'weiguan.cli.app', 'schedule', 'run'],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    await asyncio.sleep(3)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert 'stat_user: 2 rows repaired' in err
    assert 'scheduler stopped' in out


async def test_cli_refuses_an_unknown_task(config):
    result = cli(config, 'schedule', 'run', 'stat_everything')
    assert result.returncode != 0
    assert 'unknown task' in result.stderr + result.stdout
