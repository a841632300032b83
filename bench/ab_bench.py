"""This tree against a commit (--before) on the logged-in reads, under load: the
timeline page, a hot /post/info and /account/info, as req/s and server CPU µs per
request, each a ratio to the bare Sanic baseline measured in the same rounds.

    .venv/bin/python bench/ab_bench.py --before REV [--duration 5] [--rounds 3]

bench/instructions_seeded.py counts one request alone; what a change does when 32
requests share the loop and their Redis batches (a merged command, a memo that
several readers hit) only shows under load, and req/s on this shared machine moves
by a third between runs. So the variants take turns, round after round, each a
fresh server with its own `worker run` on the same seed (bench/http_bench.py's),
every bench feed built before the first wrk; each figure is the median of its
rounds, and the server's CPU time per request (from /proc) is beside req/s: it
moves far less when other work shares the machine."""
import datetime
import os
import shutil
import sys

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import (PYTHON, ROOT, Process, free_port, login_cookies,  # noqa: E402
                        server_env, wait_for_feeds, write_results)
from observability_bench import (comparison, interleaved, prepared,  # noqa: E402
                                 run_scenarios)

SCENARIOS = {'timeline page': '/post/following?limit=20',
             'hot /post/info': '/post/info?id=%d',  # ids 1-1,000, as http_bench's
             '/account/info': '/account/info'}
HOT_POSTS = 1000


def measure(label: str, cwd: str, env: dict, args) -> dict[str, tuple[float, float]]:
    redis.Redis.from_url(env['WG_REDIS_URI']).flushdb()  # each variant starts cold
    port = free_port()
    env = env | {'WG_PORT': str(port)}
    server = Process([PYTHON, '-m', 'weiguan.web.app'], env=env, port=port, cwd=cwd)
    worker = Process([PYTHON, '-m', 'weiguan.cli.app', 'worker', 'run'], env=env, cwd=cwd)
    try:
        server.wait_ready('/health')
        cookies = login_cookies(server.url)
        wait_for_feeds(server.url, cookies, env['WG_REDIS_URI'])
        common = {'WG_COOKIES': ','.join(cookies), 'WG_METHOD': 'GET',
                  'WG_ID_MAX': str(HOT_POSTS)}
        return run_scenarios(label, server, SCENARIOS, common, args, warm=True)
    finally:
        worker.stop()
        server.stop()


def main() -> None:
    args, config, data_path, before_tree = prepared(__doc__.splitlines()[0])
    env = server_env(config, 0, 1, data_path)
    variants = [('before', before_tree), ('this tree', ROOT)]
    try:
        bases, runs = interleaved(args, variants, lambda label, variant: measure(
            label, variant[1], env, args))
    finally:
        shutil.rmtree(data_path, ignore_errors=True)
        shutil.rmtree(before_tree, ignore_errors=True)
    lines = comparison(bases, runs, list(SCENARIOS), 'read')
    print('\n'.join(lines), flush=True)
    write_results([f'# This tree against {args.before}, {datetime.datetime.now():%Y-%m-%d %H:%M}',
                   '', f'{os.cpu_count()} cores; wrk -t2 -c{args.connections} '
                   f'-d{args.duration}s after a warm-up run of each read, {args.rounds} '
                   'interleaved rounds, one server process and one `worker run` each; '
                   'MariaDB + Redis (flushed before each variant); bench/http_bench.py\'s '
                   'seed.', '', *lines], '-ab')


if __name__ == '__main__':
    main()
