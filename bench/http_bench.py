"""The HTTP benchmark of weiguan's real endpoints on MariaDB + Redis.

    .venv/bin/python bench/http_bench.py [--duration 10] [--connections 32]

End to end and bounded: installs wrk if missing, seeds MariaDB (database
weiguan_bench_http; reused when already seeded), starts a bare Sanic baseline and
the server from the same code users run (`python -m weiguan.web.app`, access log off,
DEBUG off) with one `worker run` beside it, logs bench users in, runs every scenario
for --duration seconds with wrk on 127.0.0.1, then prints the table and writes it to
bench/results/<date>.md.
"""
import argparse
import asyncio
import datetime
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PYTHON = sys.executable
LUA = os.path.join(ROOT, 'bench', 'lua')

USERS, POSTS, LIKES = 10_000, 200_000, 500_000
BENCH_USERS, FOLLOWS_PER_BENCH_USER = 64, 200
PASSWORD = 'benchpass1'


def ensure_wrk() -> None:
    if shutil.which('wrk'):
        return
    print('installing wrk ...', flush=True)
    subprocess.run(['apt-get', 'install', '-y', '-qq', 'wrk'], check=True)


def ensure_redis(uri: str) -> None:
    """A Redis of its own on a local port of the bench's (timeline_scale measures its
    memory), started if nothing answers there: in memory only, left running."""
    import redis as redis_py
    client, parts = redis_py.Redis.from_url(uri), urlsplit(uri)
    try:
        client.ping()
        return
    except redis_py.ConnectionError:
        if parts.hostname not in ('127.0.0.1', 'localhost'):
            raise
    print(f'starting redis-server on port {parts.port} ...', flush=True)
    subprocess.run(['redis-server', '--port', str(parts.port or 6379), '--save', '',
                    '--appendonly', 'no', '--daemonize', 'yes'], check=True,
                   stdout=subprocess.DEVNULL)
    for _ in range(50):
        try:
            client.ping()
            return
        except redis_py.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f'redis-server on port {parts.port} did not answer')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# --- seeding -----------------------------------------------------------------

def seed_sql(password_hash: str) -> list[str]:
    """Rows generated server-side by MariaDB's SEQUENCE engine: seconds, not minutes.
    Every user has 3 image files (the first is the avatar); a third of the posts are
    image posts with the author's 3 images; the bench users (ids 1..64) each follow
    200 users and are followed by ~150."""
    now = 'UTC_TIMESTAMP()'
    meta = ("JSON_OBJECT('name', CONCAT('img', seq, '.jpg'), 'size', 24000, "
            "'type', 'image/jpeg', 'width', 640, 'height', 480, 'duration', 0)")
    return [
        f"INSERT INTO file (id, user_id, region, bucket, path, meta, created_at, updated_at) "
        f"SELECT seq, 1 + (seq - 1) DIV 3, 'local', 'bench', CONCAT('img', seq, '.jpg'), "
        f"{meta}, {now}, {now} FROM seq_1_to_{USERS * 3}",
        f"INSERT INTO user (id, username, password, avatar_id, intro, created_at, updated_at) "
        f"SELECT seq, CONCAT('bench', seq), '{password_hash}', 3 * seq - 2, 'hello', "
        f"{now}, {now} FROM seq_1_to_{USERS}",
        f"INSERT INTO post (id, user_id, type, text, image_ids, created_at, updated_at) "
        f"SELECT seq, 1 + seq % {USERS}, IF(seq % 3 = 0, 'image', 'text'), "
        f"CONCAT('post number ', seq), IF(seq % 3 = 0, JSON_ARRAY(3 * (1 + seq % {USERS}) - 2, "
        f"3 * (1 + seq % {USERS}) - 1, 3 * (1 + seq % {USERS})), JSON_ARRAY()), {now}, {now} "
        f"FROM seq_1_to_{POSTS}",
        # user u likes 50 distinct posts: 1 + (u*37 + j*4001) mod POSTS, j < 50
        f"INSERT IGNORE INTO post_like (user_id, post_id, created_at, updated_at) "
        f"SELECT 1 + seq % {USERS}, 1 + ((1 + seq % {USERS}) * 37 + (seq DIV {USERS}) * 4001) "
        f"% {POSTS}, {now}, {now} FROM seq_0_to_{LIKES - 1}",
        f"INSERT IGNORE INTO user_follow (user_id, following_id, created_at, updated_at) "
        f"SELECT 1 + seq % {BENCH_USERS}, 1 + ((1 + seq % {BENCH_USERS}) * 53 + "
        f"(seq DIV {BENCH_USERS}) * 47) % {USERS}, {now}, {now} "
        f"FROM seq_0_to_{BENCH_USERS * FOLLOWS_PER_BENCH_USER - 1}",
        f"INSERT IGNORE INTO user_follow (user_id, following_id, created_at, updated_at) "
        f"SELECT seq, 1 + seq % {BENCH_USERS}, {now}, {now} "
        f"FROM seq_{BENCH_USERS + 1}_to_{USERS}",
        "DELETE FROM user_follow WHERE user_id = following_id",
    ]


async def open_bench_database(config: dict):
    """The bench database created when missing and its schema brought to head; the
    container (resources initialised) and its database."""
    import pymysql

    from weiguan.container import build_container

    admin = pymysql.connect(host=config['MYSQL_HOST'], user=config['MYSQL_USER'],
                            password=config['MYSQL_PASSWORD'], port=config['MYSQL_PORT'])
    admin.cursor().execute(f"CREATE DATABASE IF NOT EXISTS {config['MYSQL_DB']} "
                           f"CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    admin.close()
    container = build_container(config)
    await container.init_resources()
    database = await container.database()
    await (await container.schema_migrations()).bring_to_head()
    return container, database


async def seed(config: dict) -> None:
    import sqlalchemy as sa

    from weiguan.dependencies import tables
    from weiguan.dependencies.passwords import Argon2Hasher

    container, database = await open_bench_database(config)
    # The bench's own Redis database starts empty, as after a restore: no cached row
    # of an earlier seed or of a run of other code (its writes marked nothing).
    await (await container.store()).client.flushdb()
    async with database.connection() as conn:
        posts = (await conn.execute(sa.select(sa.func.count()).select_from(tables.post))).scalar()
        likes = (await conn.execute(
            sa.select(sa.func.count()).select_from(tables.post_like))).scalar()
    if posts == POSTS and likes >= LIKES * 0.99:
        print(f'seed reused ({posts} posts, {likes} likes)', flush=True)
        await container.shutdown_resources()
        return
    print('seeding ...', flush=True)
    started = time.monotonic()
    password_hash = await Argon2Hasher().hash(PASSWORD)
    async with database.transaction() as conn:
        for table in tables.metadata.sorted_tables:
            await conn.execute(sa.text(f'TRUNCATE TABLE `{table.name}`'))
    for statement in seed_sql(password_hash):
        async with database.transaction() as conn:
            await conn.execute(sa.text(statement))
    stats = await container.stat_service()
    await asyncio.gather(stats.reconcile_users(), stats.reconcile_posts())
    await container.shutdown_resources()
    print(f'seeded in {time.monotonic() - started:.1f} s', flush=True)


# --- processes -----------------------------------------------------------------

class Process:
    def __init__(self, args: list[str], env: dict | None = None, port: int = 0,
                 cwd: str = ROOT):
        self.port = port
        self.url = f'http://127.0.0.1:{port}'
        self.log = tempfile.TemporaryFile()
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=self.log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, path: str = '/') -> None:
        for _ in range(200):
            try:
                if httpx.get(self.url + path, timeout=1).status_code < 500:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.log.seek(0)
        raise SystemExit(f'{self.url} did not start:\n{self.log.read().decode()[-2000:]}')

    def rss_mb(self) -> float:
        """Resident memory of the process and its children (workers)."""
        out = subprocess.run(['ps', '-o', 'rss=', '--ppid', str(self.popen.pid),
                              '-p', str(self.popen.pid)], capture_output=True, text=True)
        return sum(int(x) for x in out.stdout.split()) / 1024

    def stop(self) -> None:
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)


def server_env(config: dict, port: int, workers: int, data_path: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
    env.update({
        'WG_PORT': str(port), 'WG_WORKERS': str(workers), 'WG_ACCESS_LOG': 'false',
        'WG_DEBUG': 'false', 'WG_VERIFY_CODE_ECHO': 'false', 'WG_DATA_PATH': data_path,
        'WG_MYSQL_HOST': config['MYSQL_HOST'], 'WG_MYSQL_PORT': str(config['MYSQL_PORT']),
        'WG_MYSQL_DB': config['MYSQL_DB'], 'WG_MYSQL_USER': config['MYSQL_USER'],
        'WG_MYSQL_PASSWORD': config['MYSQL_PASSWORD'], 'WG_REDIS_URI': config['REDIS_URI'],
        'WG_LOG_LEVEL': 'WARNING',
        # the upload scenario is one user uploading thousands of times a minute: it
        # measures the upload path, not the abuse limit that would answer 429
        'WG_RATE_UPLOAD_PER_USER': '0',
    })
    for key, value in os.environ.items():  # tuning knobs pass through: WG_BENCH_SERVER_X=Y
        if key.startswith('WG_BENCH_SERVER_'):
            env['WG_' + key[len('WG_BENCH_SERVER_'):]] = value
    return env


def worker_command(env: dict) -> tuple[bool, str]:
    """Whether this tree's CLI has `worker run` (the feeds' job consumer)."""
    try:
        done = subprocess.run([PYTHON, '-m', 'weiguan.cli.app', 'worker', '--help'],
                              env=env | {'PAGER': 'cat'}, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False, '`worker --help` did not answer in 120 s'
    if done.returncode != 0:
        return False, f'`python -m weiguan.cli.app worker --help` exits {done.returncode}'
    if 'run' not in done.stdout + done.stderr:
        return False, '`worker --help` names no `run` command'
    return True, ''


def login_cookies(url: str) -> list[str]:
    cookies = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for user_id in range(1, BENCH_USERS + 1):
            client.cookies.clear()
            body = client.post('/account/login', json={'username': f'bench{user_id}',
                                                       'password': PASSWORD}).json()
            assert body['code'] == 'ok', body
            cookies.append(client.cookies['session'])
    return cookies


# --- wrk -----------------------------------------------------------------------

@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int


def _ms(text: str) -> float:
    value, unit = re.match(r'([\d.]+)(\w+)', text).groups()
    return float(value) * {'us': 0.001, 'ms': 1, 's': 1000, 'm': 60000}[unit]


def run_wrk(name: str, url: str, script: str, env: dict, duration: int,
            connections: int, threads: int = 2) -> Result:
    args = ['wrk', f'-t{threads}', f'-c{connections}', f'-d{duration}s', '--latency',
            '--timeout', '5s', '-s', script, url]
    out = subprocess.run(args, env=os.environ | env | {'WG_THREADS': str(threads)},
                         capture_output=True, text=True, timeout=duration + 60).stdout
    try:
        rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
        # anchored: '84.50%' in the thread stats line must not pass for the 50th
        p50 = _ms(re.search(r'^\s+50%\s+(\S+)', out, re.M).group(1))
        p99 = _ms(re.search(r'^\s+99%\s+(\S+)', out, re.M).group(1))
    except (AttributeError, KeyError) as error:
        raise SystemExit(f'could not read wrk output of {name}:\n{out}') from error
    errors = sum(int(x) for x in re.findall(r'(?:connect|read|write|timeout) (\d+)', out))
    non_2xx = int((re.search(r'Non-2xx or 3xx responses: (\d+)', out) or [0, 0])[1])
    return Result(name, rps, p50, p99, errors, non_2xx)


def measure_baseline(duration: int, connections: int) -> Result:
    """The bare Sanic baseline (bench/baseline_app.py) started, run under wrk, stopped."""
    port = free_port()
    baseline = Process([PYTHON, os.path.join(ROOT, 'bench', 'baseline_app.py'), str(port)],
                       port=port)
    try:
        baseline.wait_ready('/')
        base = run_wrk('bare Sanic baseline', baseline.url + '/',
                       os.path.join(LUA, 'session.lua'), {'WG_PATHS': '/'},
                       duration, connections)
    finally:
        baseline.stop()
    print(f'baseline: {base.rps:,.0f} req/s, p99 {base.p99_ms:.1f} ms', flush=True)
    return base


PROFILE_RATE = 250  # samples per second


def start_profile(server: Process, name: str, duration: int) -> tuple:
    """py-spy sampling the server's main thread for the scenario's run (less a
    second at each end), as collapsed stacks."""
    output = os.path.join(tempfile.gettempdir(), f'weiguan-profile-{os.getpid()}.txt')
    spy = subprocess.Popen(
        [shutil.which('py-spy') or os.path.join(os.path.dirname(PYTHON), 'py-spy'),
         'record', '--pid', str(server.popen.pid), '--duration', str(max(1, duration - 2)),
         '--rate', str(PROFILE_RATE), '--format', 'raw', '--output', output, '--nonblocking'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return spy, output, name, max(1, duration - 2)


def finish_profile(spy: tuple, rps: float) -> str:
    from profile_summary import summary
    process, output, name, seconds = spy
    process.wait(timeout=120)
    with open(output) as f:
        return f'-- profile of {name} --\n' + summary(f.read().splitlines(), rps, seconds,
                                                      PROFILE_RATE)


def upload_body() -> tuple[bytes, str]:
    from PIL import Image
    image = io.BytesIO()
    Image.new('RGB', (64, 48), (200, 100, 50)).save(image, 'PNG')
    boundary = 'weiguanbenchboundary'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="bucket"\r\n\r\nbench\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="dot.png"\r\nContent-Type: image/png\r\n\r\n').encode() \
        + image.getvalue() + f'\r\n--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'


DEEP = 400  # position in a bench user's timeline of the deep page: inside the feed's window


def deep_before_id(url: str, cookie: str) -> int:
    """The id at position DEEP of the bench user's timeline, walked page by page: a
    `beforeId` there gives a full page from inside the feed (beyond its window,
    FEED_MAX_ITEMS, the timeline ends with an empty page: docs/api.md)."""
    before: int | None = None
    with httpx.Client(base_url=url, timeout=30, cookies={'session': cookie}) as client:
        for _ in range(DEEP // 20):
            query = {'limit': 20} | ({} if before is None else {'beforeId': before})
            posts = client.get('/post/following', params=query).json()['data']['posts']
            if len(posts) < 20:
                raise SystemExit(f'the bench timeline ends before position {DEEP}')
            before = posts[-1]['id']
    assert before is not None
    return before


def wait_for_feeds(url: str, cookies: list[str], redis_uri: str, timeout: float = 300) -> float:
    """Every bench user's home feed built in Redis (each read once, which queues its
    rebuild for the worker); seconds waited. Until its rebuild is done a reader's
    pages come from MySQL, which a first pass would otherwise measure."""
    import redis as redis_py
    from weiguan.dependencies.feeds_redis import feed_key
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=30) as client:
        for cookie in cookies:
            client.get('/post/following', params={'limit': 1}, cookies={'session': cookie})
    waiting = set(range(1, len(cookies) + 1))  # the bench users are users 1..BENCH_USERS
    with redis_py.Redis.from_url(redis_uri) as store:
        while waiting:
            waiting = {user for user in waiting
                       if store.zscore(feed_key(user), 'f') is None}
            if time.monotonic() - started > timeout:
                raise SystemExit(f'{len(waiting)} bench feeds not built after {timeout:.0f} s')
            time.sleep(0.2)
    return time.monotonic() - started


def scenarios(cookies: list[str], body_file: str, content_type: str,
              deep_id: int) -> list[tuple]:
    """(name, path for the URL, script, env)"""
    session = os.path.join(LUA, 'session.lua')
    common = {'WG_COOKIES': ','.join(cookies), 'WG_ID_MAX': str(POSTS)}
    get = lambda paths: common | {'WG_PATHS': paths, 'WG_METHOD': 'GET'}  # noqa: E731
    return [
        ('/health', session, get('/health')),
        ('/account/info', session, get('/account/info')),
        ('/post/info', session, get('/post/info?id=%d')),  # any of the 200,000: cold
        # the reads a cache is for: posts read again and again (1,000 of them)
        ('/post/info, 1,000 hot posts', session, get('/post/info?id=%d') | {'WG_ID_MAX': '1000'}),
        ('/post/following?limit=20', session, get('/post/following?limit=20')),
        ('/post/following?limit=20&beforeId=deep', session,
         get(f'/post/following?limit=20&beforeId={deep_id}')),
        ('/user/followers?limit=20', session, get('/user/followers?limit=20')),
        ('like + unlike pair', session, common | {
            'WG_PATHS': '/post/like|/post/unlike', 'WG_METHOD': 'POST',
            'WG_BODIES': '{"postId": %d}'}),
        ('small image upload', os.path.join(LUA, 'upload.lua'), common | {
            'WG_BODY_FILE': body_file, 'WG_CONTENT_TYPE': content_type}),
    ]


TARGETS = {  # scenario: (share of baseline req/s, p99 ms) from the issue
    '/health': (0.80, 10), '/account/info': (0.25, 25), '/post/info': (0.15, 50),
    '/post/info, 1,000 hot posts': (0.15, 50),
    '/post/following?limit=20': (0.05, 100), 'like + unlike pair': (0.05, 100),
}


def table(results: list[Result], baseline: float, label: str) -> str:
    lines = [f'### {label}', '',
             '| scenario | req/s | p50 ms | p99 ms | ratio to baseline | target | errors |',
             '|---|---:|---:|---:|---:|---|---:|']
    for r in results:
        target = TARGETS.get(r.name)
        verdict = ''
        if target:
            met = r.rps >= target[0] * baseline and r.p99_ms <= target[1]
            verdict = f"≥{target[0]:.0%}, p99 ≤{target[1]} ms: {'met' if met else 'NOT met'}"
        lines.append(f'| {r.name} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | '
                     f'{r.rps / baseline:.1%} | {verdict} | {r.errors + r.non_2xx} |')
    return '\n'.join(lines)


def bench_config() -> dict:
    """MariaDB and Redis of the bench: WG_BENCH_MYSQL_DB (weiguan_bench_http) and
    WG_BENCH_REDIS_URI (redis://127.0.0.1:6379/14) name others."""
    from weiguan.config import load_config
    return load_config(
        MYSQL_HOST=os.environ.get('WG_TEST_MYSQL_HOST', '127.0.0.1'),
        MYSQL_DB=os.environ.get('WG_BENCH_MYSQL_DB', 'weiguan_bench_http'),
        MYSQL_USER=os.environ.get('WG_TEST_MYSQL_USER', 'root'),
        MYSQL_PASSWORD=os.environ.get('WG_TEST_MYSQL_PASSWORD', ''),
        REDIS_URI=os.environ.get('WG_BENCH_REDIS_URI', 'redis://127.0.0.1:6379/14'),
        MYSQL_TIMEOUT=0)  # seeding runs statements of many seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--duration', type=int, default=10, help='seconds per scenario')
    parser.add_argument('--connections', type=int, default=32)
    parser.add_argument('--only', help='run only the scenarios whose name contains this')
    parser.add_argument('--no-scaling', action='store_true', help='skip the 2-worker run')
    parser.add_argument('--profile', action='store_true',
                        help='sample the server with py-spy during each scenario of the '
                             'first pass and print where its CPU went (the figures are '
                             'then not written: sampling slows the server)')
    args = parser.parse_args()
    ensure_wrk()
    config = bench_config()
    asyncio.run(seed(config))
    data_path = tempfile.mkdtemp(prefix='weiguan-bench-')
    body, content_type = upload_body()
    body_file = os.path.join(data_path, 'upload.body')
    with open(body_file, 'wb') as f:
        f.write(body)

    report = [f'# HTTP benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M}', '',
              f'{os.cpu_count()} cores; wrk -t2 -c{args.connections} -d{args.duration}s on '
              f'127.0.0.1; MariaDB + Redis; seed: {USERS} users, {POSTS} posts, '
              f'{LIKES} likes, {BENCH_USERS} bench users following '
              f'{FOLLOWS_PER_BENCH_USER} each.', '']
    base = measure_baseline(args.duration, args.connections)
    report += [f'Baseline (bare Sanic JSON hello-world): **{base.rps:,.0f} req/s**, '
               f'p50 {base.p50_ms:.1f} ms, p99 {base.p99_ms:.1f} ms.', '']

    runs = [('one server process', 1, 2)]  # (label, workers, passes)
    if not args.no_scaling:
        runs.append(('two server processes (WG_WORKERS=2)', 2, 1))
    single_rps = {}
    for label, workers, passes in runs:
        port = free_port()
        env = server_env(config, port, workers, data_path)
        server = Process([PYTHON, '-m', 'weiguan.web.app'], env=env, port=port)
        # as in production, a `worker run` beside the server (feed rebuilds are jobs)
        worker = (Process([PYTHON, '-m', 'weiguan.cli.app', 'worker', 'run'], env=env)
                  if worker_command(env)[0] else None)
        try:
            server.wait_ready('/health')
            cookies = login_cookies(server.url)
            if worker is not None:
                waited = wait_for_feeds(server.url, cookies, config['REDIS_URI'])
                print(f'bench feeds built ({waited:.1f} s)', flush=True)
            deep_id = deep_before_id(server.url, cookies[0])
            for run in range(1, passes + 1):
                results = []
                cases = scenarios(cookies, body_file, content_type, deep_id)
                for name, script, env in cases:
                    if args.only and args.only not in name:
                        continue
                    spy = (start_profile(server, name, args.duration)
                           if args.profile and run == 1 and workers == 1 else None)
                    result = run_wrk(name, server.url + '/', script, env, args.duration,
                                     args.connections)
                    if spy:
                        print(finish_profile(spy, result.rps), flush=True)
                    results.append(result)
                    print(f'{label}, pass {run}: {name}: {result.rps:,.0f} req/s, '
                          f'p99 {result.p99_ms:.1f} ms, errors {result.errors}, '
                          f'non-2xx {result.non_2xx}', flush=True)
                rss = server.rss_mb()
                title = f'{label}, pass {run}' if passes > 1 else label
                report += [table(results, base.rps, title), '',
                           f'Server RSS after this pass: {rss:.0f} MB.', '']
                if workers == 1:
                    single_rps = {r.name: r.rps for r in results}
                else:
                    scaling = [f'{r.name}: ×{r.rps / single_rps[r.name]:.2f}'
                               for r in results if single_rps.get(r.name)]
                    report += ['Scaling factor, two processes over one: '
                               + '; '.join(scaling), '']
        finally:
            server.stop()
            if worker is not None:
                worker.stop()
    shutil.rmtree(data_path, ignore_errors=True)
    write_results(report, save=not args.profile)


def write_results(report: list[str], suffix: str = '', save: bool = True) -> None:
    """The report's lines printed, and written to bench/results/<date><suffix>.md."""
    text = '\n'.join(report)
    print('\n' + text)
    if not save:
        return
    path = os.path.join(ROOT, 'bench', 'results', f'{datetime.date.today()}{suffix}.md')
    with open(path, 'w') as f:
        f.write(text + '\n')
    print(f'\nwritten to {os.path.relpath(path, ROOT)}')


if __name__ == '__main__':
    main()
