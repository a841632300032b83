"""CPU instructions per logged-in read (timeline page, hot /post/info, /account/info),
counted by valgrind's callgrind on bench/http_bench.py's seed (MariaDB + Redis): a
figure that repeats to ~0.3% between runs where req/s and CPU time move by 10-30%
on this shared machine, so a change of a few percent can be seen at all.

    .venv/bin/python bench/instructions_seeded.py [--requests 100] [--before REV ...]

Each variant (this tree, then each --before commit as a `git archive`) runs as
`python -m weiguan.web.app` under callgrind with instrumentation off, beside a
`worker run`; the bench users log in and warm every path (caches filled, lazy
imports done); then instrumentation is on for exactly --requests keep-alive GETs of
one path, spread over the bench users, one at a time. One client at a time means no
Redis batch is shared between requests: the figure is the cost of one request
alone, which is what a code change moves. Each variant starts on an empty Redis.
The bare Sanic baseline is counted the same way (bench/instructions_bench.py), so
each figure is also a ratio to it.
"""
import argparse
import asyncio
import glob
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import (PYTHON, ROOT, bench_config, ensure_wrk, free_port,  # noqa: E402
                        login_cookies, seed, server_env, write_results)
from instructions_bench import count, wait_for  # noqa: E402
from observability_bench import source_tree  # noqa: E402

PATHS = {'timeline page': '/post/following?limit=20',
         'hot /post/info': '/post/info?id=%d',  # ids 1-1,000, as http_bench's hot posts
         '/account/info': '/account/info'}
HOT_POSTS = 1000
WARM_UP = 20  # requests of each path per bench user before counting


def send(port: int, paths: list[str], cookie: str) -> None:
    """One GET per path on one keep-alive connection, each answer read whole."""
    with socket.create_connection(('127.0.0.1', port)) as sock:
        buffer = b''
        for path in paths:
            sock.sendall(f'GET {path} HTTP/1.1\r\nHost: bench\r\n'
                         f'Cookie: session={cookie}\r\n\r\n'.encode())
            while b'\r\n\r\n' not in buffer:
                buffer += sock.recv(65536)
            head, _, buffer = buffer.partition(b'\r\n\r\n')
            if not head.startswith(b'HTTP/1.1 200'):
                raise SystemExit(f'{path} answered {head.splitlines()[0]!r}')
            length = next(int(line.split(b':')[1]) for line in head.split(b'\r\n')
                          if line.lower().startswith(b'content-length:'))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            buffer = buffer[length:]


def paths_for(template: str, count: int, rng: random.Random) -> list[str]:
    return [template % rng.randint(1, HOT_POSTS) if '%d' in template else template
            for _ in range(count)]


def measure(cwd: str, env: dict, requests: int) -> dict[str, float]:
    """Instructions per request of each of PATHS, in one server's life."""
    out = os.path.join(tempfile.mkdtemp(prefix='weiguan-callgrind-'), 'callgrind.out')
    server = subprocess.Popen(
        ['valgrind', '--tool=callgrind', '--instr-atstart=no',
         f'--callgrind-out-file={out}', PYTHON, '-m', 'weiguan.web.app'],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([PYTHON, '-m', 'weiguan.cli.app', 'worker', 'run'], cwd=cwd,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def control(*options: str) -> None:
        subprocess.run(['callgrind_control', *options, str(server.pid)], check=True,
                       capture_output=True)
    figures = {}
    try:
        wait_for(int(env['WG_PORT']), 600)
        cookies = login_cookies(f"http://127.0.0.1:{env['WG_PORT']}")
        rng = random.Random(1)
        for template in PATHS.values():
            for cookie in cookies:
                send(int(env['WG_PORT']), paths_for(template, WARM_UP, rng), cookie)
        # every hot post read once: what is cached then does not depend on the variant
        # that ran before (the caches in Redis outlive a server)
        send(int(env['WG_PORT']), [f'/post/info?id={i}' for i in range(1, HOT_POSTS + 1)],
             cookies[0])
        for name, template in PATHS.items():
            per_user = max(1, requests // len(cookies))
            before = set(glob.glob(out + '*'))
            control('-z')
            control('-i', 'on')
            for cookie in cookies:
                send(int(env['WG_PORT']), paths_for(template, per_user, rng), cookie)
            control('-i', 'off')
            control('-d')
            total = 0
            for name_ in set(glob.glob(out + '*')) - before:
                with open(name_) as dump:
                    total += sum(int(line.split()[1]) for line in dump
                                 if line.startswith('totals:'))
            figures[name] = total / (per_user * len(cookies))
            print(f'  {name}: {figures[name]:,.0f} instructions a request', flush=True)
    finally:
        server.terminate()
        worker.terminate()
        server.wait(60)
        worker.wait(60)
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=100, help='counted per path')
    parser.add_argument('--before', action='append', default=[],
                        help='a commit to count too (repeatable)')
    args = parser.parse_args()
    if not shutil.which('valgrind'):
        raise SystemExit('valgrind is needed: apt-get install valgrind')
    ensure_wrk()  # the baseline's warm-up
    config = bench_config()
    asyncio.run(seed(config))
    data_path = tempfile.mkdtemp(prefix='weiguan-instructions-')
    port = free_port()
    base = count([PYTHON, os.path.join(ROOT, 'bench', 'baseline_app.py'), str(port)],
                 ROOT, dict(os.environ), port, '/', 2000)
    print(f'bare Sanic baseline: {base:,.0f} instructions a request', flush=True)
    variants = [('this tree', ROOT)] + [(f'before ({rev})', source_tree(rev))
                                        for rev in args.before]
    rows = []
    try:
        for label, cwd in variants:
            print(label, flush=True)
            env = server_env(config, free_port(), 1, data_path)
            # each variant from the same state: Redis empty, as after the seed
            redis.Redis.from_url(config['REDIS_URI']).flushdb()
            rows.append((label, measure(cwd, env, args.requests)))
    finally:
        shutil.rmtree(data_path, ignore_errors=True)
        for _, cwd in variants[1:]:
            shutil.rmtree(cwd, ignore_errors=True)
    this = rows[0][1]
    lines = ['| variant | ' + ' | '.join(PATHS) + ' |', '|---|' + '---:|' * len(PATHS)]
    for label, figures in rows:
        cells = [f'{figures[p]:,.0f} ({base / figures[p]:.1%} of bare'
                 + ('' if figures is this else f'; {figures[p] / this[p] - 1:+.1%} vs this tree')
                 + ')' for p in PATHS]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    write_results(['# Instructions per logged-in read (callgrind)', '',
                   f'{args.requests} keep-alive requests per path and variant, one at a '
                   f'time, after a warm-up; bench/http_bench.py seed on MariaDB + Redis. '
                   f'Bare Sanic baseline: {base:,.0f} instructions a request.', '', *lines],
                  '-instructions-seeded')


if __name__ == '__main__':
    main()
