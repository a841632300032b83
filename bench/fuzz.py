"""Fuzz the real server with schemathesis: every operation of its OpenAPI document,
many examples, logged out and logged in.

    .venv/bin/python bench/fuzz.py [--examples 100] [--seed 20261123]
    .venv/bin/python bench/fuzz.py --mysql-host 127.0.0.1 --mysql-db weiguan_fuzz \\
        --redis-uri redis://127.0.0.1:6379/14

Starts the server the way users do (`python -m weiguan.web.app`, access log off) on a
free port of 127.0.0.1: on the embedded default in a temporary data folder, or on
MariaDB + Redis when --mysql-host / --redis-uri are given. Those are wiped first (the
database's tables dropped and created anew, the Redis database flushed): give the
run a database and a Redis database of its own. Registrations are not rate limited
for the run (the fuzzer registers a new user whenever a fuzzed logout ends its
session); every other limit stays on.

Then runs tests/support/fuzzing.py's `fuzz` (the same as tests/e2e/test_openapi_fuzz.py) with
--examples positive and as many negative examples per operation, logged out and then
logged in, and prints per operation and in total: requests sent, 5xx seen, responses
not matching the document (goal for both: 0), with a curl line per finding. Exits 1
when there is a finding. Bounded: at most examples x 2 modes x operations x 2 passes
requests (plus re-logins), each with a 30 s timeout; the server is stopped at the end
whatever happens.
"""
import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.support.fuzzing import SEED, fuzz  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


async def wipe(mysql: dict | None, redis_uri: str | None) -> None:
    """Empty tables and Redis database, so the seeded rows get the first ids."""
    from weiguan.config import load_config
    from weiguan.resources import init_database
    from weiguan.dependencies.kv import create_redis
    from weiguan.dependencies.tables import metadata
    if mysql:
        config = load_config(env={}, **mysql)
        resource = init_database(config['DB_URL'], 1, 0)
        database = await anext(resource)
        async with database.transaction() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
        await anext(resource, None)
    if redis_uri:
        client = create_redis(redis_uri)
        await client.flushdb()
        await client.aclose()


def start_server(port: int, data_path: str, mysql: dict | None,
                 redis_uri: str | None, log_path: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
    env.update({'WG_PORT': str(port), 'WG_DATA_PATH': data_path, 'WG_ACCESS_LOG': 'false',
                'WG_UPLOAD_FILE_URL_BASE': f'http://127.0.0.1:{port}/files',
                'WG_RATE_REGISTER_PER_IP': '0', 'WG_DB_CREATE_TABLES': 'true'})
    for key, value in (mysql or {}).items():
        env[f'WG_{key}'] = str(value)
    if redis_uri:
        env['WG_REDIS_URI'] = redis_uri
    log = open(log_path, 'w')
    server = subprocess.Popen([sys.executable, '-m', 'weiguan.web.app'], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f'the server exited ({server.returncode}); see {log_path}')
        try:
            if requests.get(f'http://127.0.0.1:{port}/ready', timeout=2).ok:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f'the server did not become ready in 60 s; see {log_path}')


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--examples', type=int, default=100,
                        help='positive (and as many negative) examples per operation')
    parser.add_argument('--seed', type=int, default=SEED)
    parser.add_argument('--mysql-host')
    parser.add_argument('--mysql-port', type=int, default=3306)
    parser.add_argument('--mysql-db', default='weiguan_fuzz')
    parser.add_argument('--mysql-user', default='root')
    parser.add_argument('--mysql-password', default='')
    parser.add_argument('--redis-uri')
    args = parser.parse_args()
    mysql = args.mysql_host and {
        'MYSQL_HOST': args.mysql_host, 'MYSQL_PORT': args.mysql_port,
        'MYSQL_DB': args.mysql_db, 'MYSQL_USER': args.mysql_user,
        'MYSQL_PASSWORD': args.mysql_password}
    asyncio.run(wipe(mysql, args.redis_uri))

    data_path = tempfile.mkdtemp(prefix='weiguan-fuzz-')
    log_path = os.path.join(data_path, 'server.log')
    port = free_port()
    backend = (f"MariaDB {args.mysql_host}/{args.mysql_db}" if mysql else 'SQLite') + \
        (f' + Redis {args.redis_uri}' if args.redis_uri else ' + in-process stores')
    print(f'server on 127.0.0.1:{port}, {backend}; log: {log_path}', flush=True)
    server = start_server(port, data_path, mysql, args.redis_uri, log_path)
    started = time.monotonic()
    try:
        base_url = f'http://127.0.0.1:{port}'
        document = requests.get(f'{base_url}/openapi.json', timeout=10).json()
        results = {}
        for logged_in in (False, True):
            label = 'logged in' if logged_in else 'logged out'
            print(f'\n== {label}', flush=True)
            results[label] = fuzz(base_url, document, max_examples=args.examples,
                                  logged_in=logged_in, seed=args.seed,
                                  log=lambda line: print('  ' + line, flush=True))
    finally:
        stop_server(server)
    print(f'\n== totals ({time.monotonic() - started:.0f} s, {args.examples} examples per '
          f'operation and mode, seed {args.seed})')
    for label, figures in results.items():
        print(figures.summary(f'{label}: '))
    findings = sum(len(f.server_errors) + len(f.nonconforming) for f in results.values())
    print(f'requests sent: {sum(f.requests for f in results.values())}, '
          f'5xx: {sum(len(f.server_errors) for f in results.values())}, '
          f'not matching the document: '
          f'{sum(len(f.nonconforming) for f in results.values())}')
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
