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
import argparse
import asyncio
import datetime
import os
import shutil
import statistics
import sys
import tempfile

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import (PYTHON, ROOT, Process, bench_config, ensure_wrk,  # noqa: E402
                        free_port, login_cookies, seed, server_env, wait_for_feeds,
                        write_results)
from observability_bench import baseline, source_tree, timed_wrk  # noqa: E402

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
        figures = {}
        for name, path in SCENARIOS.items():
            timed_wrk(name, server, path, common, args)  # warm: caches filled
            figures[name] = timed_wrk(name, server, path, common, args)
            print(f'{label}: {name}: {figures[name][0]:,.0f} req/s, '
                  f'{figures[name][1]:.0f} µs CPU a request', flush=True)
        return figures
    finally:
        worker.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--before', required=True, help='the commit to compare with')
    parser.add_argument('--duration', type=int, default=5, help='seconds per scenario')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--connections', type=int, default=32)
    args = parser.parse_args()
    ensure_wrk()
    config = bench_config()
    asyncio.run(seed(config))
    data_path = tempfile.mkdtemp(prefix='weiguan-bench-')
    before_tree = source_tree(args.before)
    env = server_env(config, 0, 1, data_path)
    variants = [('before', before_tree), ('this tree', ROOT)]
    bases, runs = [], {label: {name: [] for name in SCENARIOS} for label, _ in variants}
    try:
        for round_ in range(args.rounds):
            bases.append(baseline(args))
            for label, cwd in variants:
                for name, figure in measure(f'round {round_ + 1}, {label}', cwd, env,
                                            args).items():
                    runs[label][name].append(figure)
        bases.append(baseline(args))
    finally:
        shutil.rmtree(data_path, ignore_errors=True)
        shutil.rmtree(before_tree, ignore_errors=True)
    base = statistics.median(rps for rps, _ in bases)
    base_cpu = statistics.median(cpu for _, cpu in bases)
    lines = [f'Bare Sanic baseline (median of {len(bases)}): {base:,.0f} req/s, '
             f'{base_cpu:.1f} µs CPU a request.', '',
             '| variant | read | req/s | ratio to baseline | vs before | CPU µs a request '
             '| CPU ratio to baseline | CPU vs before |',
             '|---|---|---:|---:|---:|---:|---:|---:|']
    for label, _ in variants:
        for name in SCENARIOS:
            rps = statistics.median(r for r, _ in runs[label][name])
            cpu = statistics.median(c for _, c in runs[label][name])
            before = statistics.median(r for r, _ in runs['before'][name])
            before_cpu = statistics.median(c for _, c in runs['before'][name])
            lines.append(f'| {label} | {name} | {rps:,.0f} | {rps / base:.1%} | '
                         f'{rps / before - 1:+.1%} | {cpu:.0f} | {base_cpu / cpu:.1%} | '
                         f'{cpu / before_cpu - 1:+.1%} |')
    print('\n'.join(lines), flush=True)
    write_results([f'# This tree against {args.before}, {datetime.datetime.now():%Y-%m-%d %H:%M}',
                   '', f'{os.cpu_count()} cores; wrk -t2 -c{args.connections} '
                   f'-d{args.duration}s after a warm-up run of each read, {args.rounds} '
                   'interleaved rounds, one server process and one `worker run` each; '
                   'MariaDB + Redis (flushed before each variant); bench/http_bench.py\'s '
                   'seed.', '', *lines], '-ab')


if __name__ == '__main__':
    main()
