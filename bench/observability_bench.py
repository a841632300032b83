"""What observability costs: /health and the home timeline, as ratios to the bare
Sanic baseline measured in the same run, for

- `before`: the server at a commit without it (--before, default 3114295), from a
  `git archive` of that commit in a temporary folder;
- `tracing off`: this tree's defaults (metrics on, request ids, TRACING_EXPORTER=none);
- `metrics off`: this tree with METRICS=false too (request ids only), so that the
  difference to `tracing off` is what the request metrics cost;
- `tracing on`: TRACING_EXPORTER=zipkin, TRACING_SAMPLE_RATIO=1.0, to a Zipkin
  receiver in this process that accepts and drops the spans.

    .venv/bin/python bench/observability_bench.py [--duration 5] [--rounds 2]

Same seed, harness and wrk scripts as bench/http_bench.py (its MariaDB and Redis:
WG_BENCH_MYSQL_DB, WG_BENCH_REDIS_URI). The variants are interleaved round by round
so that a slow moment of the machine does not land on one variant only; each figure
is the median of its rounds. Beside req/s, the server's CPU time per request (from
/proc): on a machine shared with other work it moves far less than req/s does, and
its ratio to the baseline's is what req/s would show on an idle machine."""
import argparse
import asyncio
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.support.zipkin_receiver import ZipkinReceiver  # noqa: E402
from http_bench import (LUA, PYTHON, ROOT, Process, bench_config, ensure_wrk,  # noqa: E402
                        free_port, login_cookies, run_wrk, seed, server_env,
                        write_results)

SCENARIOS = {'/health': '/health', 'timeline': '/post/following?limit=20'}
TICKS = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    with open(f'/proc/{pid}/stat') as file:
        fields = file.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def timed_wrk(name: str, process: Process, path: str, env: dict, args) -> tuple[float, float]:
    """(req/s, server CPU µs per request): the second hardly moves when other work
    shares the machine, the first does."""
    before = cpu_seconds(process.popen.pid)
    result = run_wrk(name, process.url + '/', os.path.join(LUA, 'session.lua'),
                     env | {'WG_PATHS': path}, args.duration, args.connections)
    cpu = cpu_seconds(process.popen.pid) - before
    errors = result.errors + result.non_2xx
    if errors:
        print(f'{name}: {errors} errors', flush=True)
    return result.rps, cpu / max(result.rps * args.duration, 1) * 1e6


def source_tree(rev: str) -> str:
    folder = tempfile.mkdtemp(prefix='weiguan-before-')
    archive = subprocess.run(['git', '-C', ROOT, 'archive', rev], check=True,
                             capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', folder], input=archive, check=True)
    return folder


def measure(label: str, cwd: str, env: dict, cookies_cache: dict, args) -> dict:
    port = free_port()
    server = Process([PYTHON, '-m', 'weiguan.web.app'], env=env | {'WG_PORT': str(port)},
                     port=port, cwd=cwd)
    try:
        server.wait_ready('/health')
        if 'cookies' not in cookies_cache:
            cookies_cache['cookies'] = login_cookies(server.url)
        common = {'WG_COOKIES': ','.join(cookies_cache['cookies']), 'WG_METHOD': 'GET'}
        return run_scenarios(label, server, SCENARIOS, common, args)
    finally:
        server.stop()


def run_scenarios(label: str, server: Process, scenarios: dict[str, str], common: dict,
                  args, warm: bool = False) -> dict[str, tuple[float, float]]:
    """Each scenario's (req/s, CPU µs a request) under wrk, after a run of it that
    is not counted if `warm`."""
    figures = {}
    for name, path in scenarios.items():
        if warm:
            timed_wrk(name, server, path, common, args)
        figures[name] = timed_wrk(name, server, path, common, args)
        print(f'{label}: {name}: {figures[name][0]:,.0f} req/s, '
              f'{figures[name][1]:.0f} µs CPU a request', flush=True)
    return figures


def baseline(args) -> tuple[float, float]:
    port = free_port()
    process = Process([PYTHON, os.path.join(ROOT, 'bench', 'baseline_app.py'), str(port)],
                      port=port)
    try:
        process.wait_ready('/')
        rps, cpu = timed_wrk('baseline', process, '/', {}, args)
        print(f'bare Sanic baseline: {rps:,.0f} req/s, {cpu:.0f} µs CPU a request',
              flush=True)
        return rps, cpu
    finally:
        process.stop()


def interleaved(args, variants: list[tuple], measure_variant: Callable[[str, tuple], dict]
                ) -> tuple[list[tuple[float, float]], dict[str, dict[str, list]]]:
    """`args.rounds` rounds, each the bare Sanic baseline and then every variant
    (a tuple, its label first) by `measure_variant(round label, variant)`, which
    gives {scenario: (req/s, CPU µs a request)}; and the baseline once more."""
    bases: list[tuple[float, float]] = []
    runs: dict[str, dict[str, list]] = {variant[0]: {} for variant in variants}
    for round_ in range(args.rounds):
        bases.append(baseline(args))
        for variant in variants:
            figures = measure_variant(f'round {round_ + 1}, {variant[0]}', variant)
            for name, figure in figures.items():
                runs[variant[0]].setdefault(name, []).append(figure)
    bases.append(baseline(args))
    return bases, runs


def comparison(bases: list[tuple[float, float]], runs: dict[str, dict[str, list]],
               scenarios: list[str], what: str) -> list[str]:
    """The medians of interleaved()'s rounds, each variant against the first."""
    base = statistics.median(rps for rps, _ in bases)
    base_cpu = statistics.median(cpu for _, cpu in bases)
    first = next(iter(runs))
    lines = [f'bare Sanic baseline (median of {len(bases)}): {base:,.0f} req/s, '
             f'{base_cpu:.1f} µs CPU a request', '',
             f'| variant | {what} | req/s | ratio to baseline | vs {first} | '
             f'CPU µs a request | CPU ratio to baseline | CPU vs {first} |',
             '|---|---|---:|---:|---:|---:|---:|---:|']
    for label, figures in runs.items():
        for name in scenarios:
            rps = statistics.median(r for r, _ in figures[name])
            cpu = statistics.median(c for _, c in figures[name])
            before = statistics.median(r for r, _ in runs[first][name])
            before_cpu = statistics.median(c for _, c in runs[first][name])
            lines.append(f'| {label} | {name} | {rps:,.0f} | {rps / base:.1%} | '
                         f'{rps / before - 1:+.1%} | {cpu:.1f} | {base_cpu / cpu:.1%} | '
                         f'{cpu / before_cpu - 1:+.1%} |')
    return lines


def prepared(description: str, before: str | None = None) -> tuple[Any, dict, str, str]:
    """The arguments of an interleaved comparison (--before: `before`, or required),
    wrk at hand, http_bench's seed in place, a data folder and the --before tree."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--before', default=before, required=before is None,
                        help='the commit to compare with')
    parser.add_argument('--duration', type=int, default=5, help='seconds per scenario')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--connections', type=int, default=32)
    args = parser.parse_args()
    ensure_wrk()
    config = bench_config()
    asyncio.run(seed(config))
    return args, config, tempfile.mkdtemp(prefix='weiguan-bench-'), source_tree(args.before)


def main() -> None:
    args, config, data_path, before_tree = prepared(__doc__.splitlines()[0], '3114295')
    zipkin = ZipkinReceiver(keep=False)  # the server's cost, not the receiver's
    env = server_env(config, 0, 1, data_path)
    variants = [('before', before_tree, env),
                ('tracing off', ROOT, env),
                ('metrics off', ROOT, env | {'WG_METRICS': 'false'}),
                ('tracing on', ROOT, env | {'WG_TRACING_EXPORTER': 'zipkin',
                                            'WG_TRACING_ENDPOINT': zipkin.url,
                                            'WG_TRACING_SAMPLE_RATIO': '1.0'})]
    cookies: dict = {}
    try:
        bases, runs = interleaved(args, variants, lambda label, variant: measure(
            label, variant[1], variant[2], cookies, args))
    finally:
        shutil.rmtree(data_path, ignore_errors=True)
        shutil.rmtree(before_tree, ignore_errors=True)
    lines = comparison(bases, runs, list(SCENARIOS), 'scenario')
    write_results([f'# Observability cost, {datetime.datetime.now():%Y-%m-%d %H:%M}', '',
                   f'{os.cpu_count()} cores; wrk -t2 -c{args.connections} '
                   f'-d{args.duration}s, {args.rounds} interleaved rounds; MariaDB + '
                   f'Redis; before = {args.before}.', '', *lines], '-observability')


if __name__ == '__main__':
    main()
