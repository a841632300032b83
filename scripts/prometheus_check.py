"""Proves deploy/prometheus.yml with a real Prometheus: starts a server and a
scheduler (embedded default, in a temporary folder), a Prometheus on 127.0.0.1 with
that scrape configuration (its targets pointed at them, a 1 s interval, a temporary
data folder), sends a few requests, then prints `up` of each job and a few series,
and stops everything. Exit status 1 when a target is not up.

    .venv/bin/python scripts/prometheus_check.py [--seconds 6]

Needs the `prometheus` binary (Debian: apt-get install -y prometheus).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'deploy', 'prometheus.yml')
SERIES = ('up', 'sum by (route, status) (weiguan_http_requests_total)',
          'weiguan_http_requests_in_flight', 'sum by (job_name, outcome) (weiguan_job_runs_total)',
          'weiguan_db_pool_connections_in_use')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=3) as response:
        return response.read()


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f'{url} did not answer within {seconds} s')


def local_config(server: str, scheduler: str) -> dict:
    """deploy/prometheus.yml with its compose targets replaced by local ones."""
    with open(CONFIG) as file:
        config = yaml.safe_load(file)
    config['global']['scrape_interval'] = '1s'
    local = {'server:8000': server, 'scheduler:9100': scheduler}
    for job in config['scrape_configs']:
        for static in job['static_configs']:
            static['targets'] = [local[target] for target in static['targets']]
    return config


def query(base: str, expression: str) -> list:
    url = f'{base}/api/v1/query?' + urllib.parse.urlencode({'query': expression})
    return json.loads(get(url))['data']['result']


def _scraped(base: str) -> bool:
    targets = json.loads(get(f'{base}/api/v1/targets'))['data']['activeTargets']
    return bool(targets) and all(t['health'] != 'unknown' for t in targets) and \
        bool(query(base, 'weiguan_http_requests_total'))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=6, help='how long Prometheus scrapes')
    args = parser.parse_args()
    binary = shutil.which('prometheus')
    if not binary:
        raise SystemExit('prometheus not found: apt-get install -y prometheus')
    folder = tempfile.mkdtemp(prefix='weiguan-prometheus-')
    ports = {name: free_port() for name in ('server', 'scheduler', 'prometheus')}
    env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
    env.update(WG_DATA_PATH=os.path.join(folder, 'data'), WG_ACCESS_LOG='false',
               WG_STAT_INTERVAL='1')
    os.makedirs(env['WG_DATA_PATH'])
    processes = []

    def start(command: list[str], **extra: str) -> None:
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env | extra,
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
    try:
        start([sys.executable, '-m', 'weiguan.web.app'], WG_PORT=str(ports['server']))
        wait_for(f'http://127.0.0.1:{ports["server"]}/health')
        start([sys.executable, '-m', 'weiguan.cli.app', 'schedule', 'run'],
              WG_METRICS_PORT=str(ports['scheduler']))
        wait_for(f'http://127.0.0.1:{ports["scheduler"]}/metrics')
        config_path = os.path.join(folder, 'prometheus.yml')
        with open(config_path, 'w') as file:
            yaml.safe_dump(local_config(f'127.0.0.1:{ports["server"]}',
                                        f'127.0.0.1:{ports["scheduler"]}'), file)
        start([binary, f'--config.file={config_path}',
               f'--storage.tsdb.path={os.path.join(folder, "tsdb")}',
               f'--web.listen-address=127.0.0.1:{ports["prometheus"]}'])
        base = f'http://127.0.0.1:{ports["prometheus"]}'
        wait_for(f'{base}/-/ready')
        # Prometheus applies new targets after its discovery interval (5 s): traffic
        # until every target has been scraped, and --seconds at least.
        started = time.monotonic()
        while time.monotonic() - started < max(args.seconds, 2) or (
                not _scraped(base) and time.monotonic() - started < 30):
            for path in ('/health', '/ready', '/no/such/route'):
                try:
                    get(f'http://127.0.0.1:{ports["server"]}{path}')
                except OSError:
                    pass  # a 404 raises: it is counted all the same
            time.sleep(0.2)
        targets = json.loads(get(f'{base}/api/v1/targets'))['data']['activeTargets']
        failed = len(targets) != 2
        for target in targets:
            print(f'{target["labels"]["job"]} {target["scrapeUrl"]}: {target["health"]}'
                  f'{" " + target["lastError"] if target["lastError"] else ""}')
        for expression in SERIES:
            print(f'== {expression}')
            for item in query(base, expression):
                print(f'   {item["metric"]} {item["value"][1]}')
                if expression == 'up' and item['value'][1] != '1':
                    failed = True
        return 1 if failed or not query(base, 'up') else 0
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
