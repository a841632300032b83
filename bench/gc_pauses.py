"""The garbage collector's pauses in a server under load: collections per
generation, their total and longest time, beside the timeline page's req/s and p99,
with the server's collector settled (runtime.settle_gc, as it runs) and not.

    .venv/bin/python bench/gc_pauses.py [--duration 10] [--connections 32]

On bench/http_bench.py's seed (MariaDB + Redis), with one `worker run` beside the
server. Each variant: the server (`weiguan.web.app`'s main, run by this script with
gc.callbacks timing each collection), bench users logged in and their feeds built,
a 3 s warm-up, the collector's record reset (SIGUSR1), wrk on
`GET /post/following?limit=20`, the record written (SIGUSR2). A full collection of
an unsettled server walked ~160,000 objects in ~100 ms, a stall of every request in
flight (docs/performance.md).
"""
import argparse
import asyncio
import collections
import gc
import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import (LUA, PYTHON, Process, bench_config, ensure_wrk, free_port,  # noqa: E402
                        login_cookies, run_wrk, seed, server_env, wait_for_feeds,
                        write_results)

PATH = '/post/following?limit=20'


def serve(record: str, settle: bool) -> None:
    """The server's main, its collections timed; SIGUSR1 resets the record, SIGUSR2
    writes it to `record` (JSON: generation -> milliseconds of each collection)."""
    pauses: dict[int, list[float]] = collections.defaultdict(list)
    started = [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == 'start':
            started[0] = time.perf_counter()
        else:
            pauses[info['generation']].append((time.perf_counter() - started[0]) * 1000)

    def write(*_) -> None:
        with open(record, 'w') as f:
            json.dump(pauses, f)

    gc.callbacks.append(timed)
    signal.signal(signal.SIGUSR1, lambda *_: pauses.clear())
    signal.signal(signal.SIGUSR2, write)
    from weiguan.web import app
    if not settle:
        app.settle_gc = lambda: None  # type: ignore[attr-defined]
    app.main()


def measure(config: dict, data_path: str, settle: bool, duration: int,
            connections: int) -> tuple:
    port = free_port()
    env = server_env(config, port, 1, data_path)
    record = os.path.join(data_path, f'gc-{settle}.json')
    server = Process([PYTHON, os.path.abspath(__file__), '--serve', record]
                     + ([] if settle else ['--unsettled']), env=env, port=port)
    worker = Process([PYTHON, '-m', 'weiguan.cli.app', 'worker', 'run'], env=env)
    try:
        server.wait_ready('/health')
        cookies = login_cookies(server.url)
        wait_for_feeds(server.url, cookies, config['REDIS_URI'])  # no page from MySQL
        script, wrk_env = os.path.join(LUA, 'session.lua'), {
            'WG_COOKIES': ','.join(cookies), 'WG_PATHS': PATH, 'WG_METHOD': 'GET'}
        run_wrk('warm-up', server.url + PATH, script, wrk_env, 3, connections)
        os.kill(server.popen.pid, signal.SIGUSR1)
        result = run_wrk(PATH, server.url + PATH, script, wrk_env, duration, connections)
        os.kill(server.popen.pid, signal.SIGUSR2)
        for _ in range(50):
            if os.path.exists(record):
                break
            time.sleep(0.1)
        with open(record) as f:
            pauses = {int(g): ms for g, ms in json.load(f).items()}
    finally:
        server.stop()
        worker.stop()
    return result, pauses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--duration', type=int, default=10)
    parser.add_argument('--connections', type=int, default=32)
    parser.add_argument('--serve', help=argparse.SUPPRESS)
    parser.add_argument('--unsettled', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, settle=not args.unsettled)
    ensure_wrk()
    config = bench_config()
    asyncio.run(seed(config))
    data_path = tempfile.mkdtemp(prefix='weiguan-gc-')
    lines = [f'# Garbage collector pauses, `GET {PATH}`', '',
             f'wrk -t2 -c{args.connections} -d{args.duration}s after a 3 s warm-up; '
             'bench/http_bench.py seed on MariaDB + Redis, one server, one worker.', '',
             '| collector | req/s | p50 ms | p99 ms | generation: collections, total ms, '
             'longest ms |', '|---|---:|---:|---:|---|']
    for settle in (False, True):
        result, pauses = measure(config, data_path, settle, args.duration,
                                 args.connections)
        cells = '; '.join(f'gen{g}: {len(ms)}, {sum(ms):.0f}, {max(ms):.1f}'
                          for g, ms in sorted(pauses.items()) if ms) or 'none'
        label = 'settled (as it runs)' if settle else "Python's defaults"
        lines.append(f'| {label} | {result.rps:,.0f} | {result.p50_ms:.1f} | '
                     f'{result.p99_ms:.1f} | {cells} |')
        print(lines[-1], flush=True)
    write_results(lines, '-gc-pauses')


if __name__ == '__main__':
    main()
