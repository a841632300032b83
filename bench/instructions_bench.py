"""CPU instructions per /health request, counted by valgrind's callgrind: a figure
that does not move with the machine's other work (req/s on a shared 2-core machine
moves by 10-30% between runs; this by under 1%).

    .venv/bin/python bench/instructions_bench.py [--requests 2000] [--before REV ...]

Each variant is the server (`python -m weiguan.web.app`, the embedded default:
/health touches no dependency) run under callgrind with instrumentation off; after
start-up and a warm-up, instrumentation is switched on for exactly --requests
keep-alive requests from one client, then off, and the count is divided by them.
Variants: this tree with its defaults (metrics on, tracing off), this tree with
METRICS=false, and each --before commit (a `git archive` of it) with its defaults.
The bare Sanic baseline is counted the same way, so every figure is also a ratio
to it. Needs valgrind (Debian package `valgrind`) and wrk.
"""
import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import PYTHON, ROOT, ensure_wrk, free_port, write_results  # noqa: E402
from observability_bench import source_tree  # noqa: E402


def wait_for(port: int, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), 0.5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f'nothing answered on port {port} within {seconds} s')


def send(port: int, path: str, count: int) -> None:
    """`count` GETs on one keep-alive connection, each answer read whole."""
    request = f'GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n'.encode()
    with socket.create_connection(('127.0.0.1', port)) as sock:
        buffer = b''
        for _ in range(count):
            sock.sendall(request)
            while b'\r\n\r\n' not in buffer:
                buffer += sock.recv(65536)
            head, _, buffer = buffer.partition(b'\r\n\r\n')
            length = next(int(line.split(b':')[1]) for line in head.split(b'\r\n')
                          if line.lower().startswith(b'content-length:'))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            buffer = buffer[length:]


def count(command: list[str], cwd: str, env: dict, port: int, path: str,
          requests: int) -> float:
    out = os.path.join(tempfile.mkdtemp(prefix='weiguan-callgrind-'), 'callgrind.out')
    server = subprocess.Popen(
        ['valgrind', '--tool=callgrind', '--instr-atstart=no',
         f'--callgrind-out-file={out}', *command],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        subprocess.run(['wrk', '-t1', '-c4', '-d3s', f'http://127.0.0.1:{port}{path}'],
                       check=True, capture_output=True)  # warm-up: caches, lazy imports

        def control(*options: str) -> None:
            subprocess.run(['callgrind_control', *options, str(server.pid)], check=True,
                           capture_output=True)
        control('-i', 'on')
        send(port, path, requests)
        control('-i', 'off')
        control('-d')
    finally:
        server.terminate()
        server.wait(60)
    total = 0
    for name in glob.glob(out + '*'):
        with open(name) as dump:
            total += sum(int(line.split()[1]) for line in dump
                         if line.startswith('totals:'))
    shutil.rmtree(os.path.dirname(out), ignore_errors=True)
    return total / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=2000)
    parser.add_argument('--before', action='append', default=[],
                        help='a commit to count too (repeatable)')
    args = parser.parse_args()
    if not shutil.which('valgrind'):
        raise SystemExit('valgrind is needed: apt-get install valgrind')
    ensure_wrk()
    data_path = tempfile.mkdtemp(prefix='weiguan-instructions-')
    trees = [(f'before ({rev})', source_tree(rev), {}) for rev in args.before]
    variants = [('this tree', ROOT, {}), ('this tree, METRICS=false', ROOT,
                                          {'WG_METRICS': 'false'}), *trees]
    try:
        port = free_port()
        base = count([PYTHON, os.path.join(ROOT, 'bench', 'baseline_app.py'), str(port)],
                     ROOT, dict(os.environ), port, '/', args.requests)
        print(f'bare Sanic baseline: {base:,.0f} instructions a request', flush=True)
        rows = []
        for label, cwd, extra in variants:
            port = free_port()
            env = dict(os.environ, WG_DATA_PATH=data_path, WG_PORT=str(port),
                       WG_ACCESS_LOG='false', **extra)
            figure = count([PYTHON, '-m', 'weiguan.web.app'], cwd, env, port, '/health',
                           args.requests)
            print(f'{label}: {figure:,.0f} instructions a request', flush=True)
            rows.append((label, figure))
    finally:
        shutil.rmtree(data_path, ignore_errors=True)
        for _, cwd, _ in trees:
            shutil.rmtree(cwd, ignore_errors=True)
    this = rows[0][1]
    lines = ['| variant | instructions a /health request | baseline / variant | '
             'vs this tree |', '|---|---:|---:|---:|',
             f'| bare Sanic baseline | {base:,.0f} | 100% | |']
    lines += [f'| {label} | {figure:,.0f} | {base / figure:.1%} | {figure / this - 1:+.1%} |'
              for label, figure in rows]
    write_results(['# Instructions per /health request (callgrind)', '',
                   f'{args.requests} keep-alive requests per variant, after a '
                   'warm-up; embedded default.', '', *lines], '-instructions')


if __name__ == '__main__':
    main()
