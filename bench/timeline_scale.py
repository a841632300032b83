"""Home timelines at scale (issue #11): 1,000,000 posts by 20,000 authors, readers
following 20, 2,000 and 10,000 of them, one author with 100,000 followers.

    flock /work/heavy.lock .venv/bin/python bench/timeline_scale.py \\
        [--quick] [--reseed] [--duration 10] [--connections 32] [--workers 1]

End to end and bounded, on whatever tree it runs in:
1. Seeds MariaDB behind the server's back, as after a restore (database
   weiguan_bench_scale, or weiguan_bench_scale_quick with --quick; WG_BENCH_MYSQL_DB
   names another), with MariaDB's SEQUENCE engine and INSERT ... SELECT: exact
   user_stat and post_stat rows, checked afterwards by the project's reconcile job
   (it must repair nothing). The seed is reused when its marker row (table
   bench_seed) names the same sizes; --reseed forces it. Redis (db 13 on port 6315,
   started if nothing answers there; WG_BENCH_REDIS_URI names another) is flushed
   before the server starts.
2. Starts the bare Sanic baseline, then `python -m weiguan.web.app` (WG_WORKERS=1)
   and, when the CLI has a `worker` command, --workers `worker run` processes;
   logs the readers in and checks each reader's first and second page (and the
   first reader's deep page) against the SQL truth this script computes itself.
3. Runs wrk on GET /post/following (first page, and a deep page: beforeId at
   position DEEP of the first reader's timeline) for each reader class and prints
   req/s, % of bare Sanic, p50, p99, and the largest class's rate as % of the
   smallest's.
4. Fan-out, when a worker command exists: the popular author's followers made
   active (mark_active), a post published and polled for in followers' timelines
   and in Redis, its deletion likewise, publish latency during the fan-outs, Redis
   memory per 1,000 full feeds.
The report is printed and written to bench/results/<date>-timeline-scale[-quick].md.
"""
import argparse
import asyncio
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import (LUA, PYTHON, Process, ensure_redis, ensure_wrk, free_port,  # noqa: E402
                        measure_baseline, open_bench_database, run_wrk, server_env,
                        worker_command, write_results)

PASSWORD = 'benchpass1'
POPULAR = 1  # the author with every fan as a follower (an author with posts too)
LIMIT = 20
TARGET_SHARE, TARGET_P99_MS, TARGET_SCALING = 0.10, 50, 0.80  # issue #11
SESSION_LUA = os.path.join(LUA, 'session.lua')


@dataclass(frozen=True)
class Sizes:
    authors: int
    posts: int               # ids in time order, author 1 + (id - 1) % authors
    follows: tuple           # one reader class per entry: how many authors each follows
    readers_per_class: int
    fans: int                # followers of POPULAR (users of their own, who can log in)
    deep: int                # position in the first reader's timeline of the deep page

    def reader_id(self, klass: int, k: int) -> int:
        return self.authors + klass * self.readers_per_class + k + 1

    @property
    def first_fan(self) -> int:
        return self.reader_id(len(self.follows), 0)

    def fan_ids(self) -> range:
        return range(self.first_fan, self.first_fan + self.fans)


FULL = Sizes(20_000, 1_000_000, (20, 2_000, 10_000), 3, 100_000, 5_000)
QUICK = Sizes(2_000, 20_000, (20, 200, 1_000), 2, 5_000, 500)


# --- seeding -------------------------------------------------------------------

def seed_sql(sizes: Sizes, password_hash: str, now: datetime.datetime) -> list[str]:
    """Every statement of the seed. Post n is created n seconds after the first, the
    last one a second before `now`; reader k of a class following F authors follows
    1 + (j * (authors // F) + 7k) mod authors for j < F (distinct, spread over all
    authors); every fan follows POPULAR. The stat rows are counted from the rows."""
    stamp = f"'{now:%Y-%m-%d %H:%M:%S}'"
    first = f"TIMESTAMP'{now - datetime.timedelta(seconds=sizes.posts + 1):%Y-%m-%d %H:%M:%S}'"
    user_columns = 'INSERT INTO user (id, username, password, intro, created_at, updated_at) '
    statements = [
        f"{user_columns}SELECT seq, CONCAT('author', seq), '{password_hash}', '', "
        f"{stamp}, {stamp} FROM seq_1_to_{sizes.authors}",
        f"{user_columns}SELECT seq, CONCAT('fan', seq - {sizes.first_fan - 1}), "
        f"'{password_hash}', '', {stamp}, {stamp} "
        f"FROM seq_{sizes.first_fan}_to_{sizes.first_fan + sizes.fans - 1}",
        f"INSERT INTO user_follow (user_id, following_id, created_at, updated_at) "
        f"SELECT seq, {POPULAR}, {stamp}, {stamp} "
        f"FROM seq_{sizes.first_fan}_to_{sizes.first_fan + sizes.fans - 1}",
    ]
    for klass, follows in enumerate(sizes.follows):
        for k in range(sizes.readers_per_class):
            reader = sizes.reader_id(klass, k)
            statements += [
                f"{user_columns}VALUES ({reader}, '{reader_name(follows, k)}', "
                f"'{password_hash}', '', {stamp}, {stamp})",
                f"INSERT INTO user_follow (user_id, following_id, created_at, updated_at) "
                f"SELECT {reader}, 1 + (seq * {sizes.authors // follows} + {7 * k}) % "
                f"{sizes.authors}, {stamp}, {stamp} FROM seq_0_to_{follows - 1}"]
    chunk = 200_000
    for start in range(1, sizes.posts + 1, chunk):
        end = min(start + chunk - 1, sizes.posts)
        statements.append(
            f"INSERT INTO post (id, user_id, type, text, image_ids, created_at, updated_at) "
            f"SELECT seq, 1 + (seq - 1) % {sizes.authors}, 'text', CONCAT('post ', seq), "
            f"JSON_ARRAY(), {first} + INTERVAL seq SECOND, {first} + INTERVAL seq SECOND "
            f"FROM seq_{start}_to_{end}")
    statements += [
        "INSERT INTO post_stat (post_id, like_count, created_at, updated_at) "
        "SELECT id, 0, created_at, created_at FROM post",
        "INSERT INTO user_stat (user_id, post_count, like_count, following_count, "
        "follower_count, created_at, updated_at) "
        "SELECT u.id, COALESCE(p.n, 0), 0, COALESCE(f.n, 0), COALESCE(g.n, 0), "
        f"{stamp}, {stamp} FROM user u "
        "LEFT JOIN (SELECT user_id, COUNT(*) n FROM post GROUP BY user_id) p "
        "ON p.user_id = u.id "
        "LEFT JOIN (SELECT user_id, COUNT(*) n FROM user_follow GROUP BY user_id) f "
        "ON f.user_id = u.id "
        "LEFT JOIN (SELECT following_id, COUNT(*) n FROM user_follow "
        "GROUP BY following_id) g ON g.following_id = u.id",
    ]
    return statements


def reader_name(follows: int, k: int) -> str:
    return f'reader{follows}_{k}'


def mysql(config: dict):
    import pymysql
    return pymysql.connect(host=config['MYSQL_HOST'], port=config['MYSQL_PORT'],
                           user=config['MYSQL_USER'], password=config['MYSQL_PASSWORD'],
                           database=config['MYSQL_DB'], autocommit=True)


async def seed(config: dict, sizes: Sizes, reseed: bool) -> None:
    from weiguan.dependencies import tables
    from weiguan.dependencies.passwords import Argon2Hasher

    container, _ = await open_bench_database(config)
    marker = json.dumps(asdict(sizes))
    conn = mysql(config)
    try:
        cur = conn.cursor()
        cur.execute('CREATE TABLE IF NOT EXISTS bench_seed (sizes VARCHAR(1000) NOT NULL)')
        cur.execute('SELECT sizes FROM bench_seed')
        if not reseed and [row[0] for row in cur.fetchall()] == [marker]:
            print(f'seed reused ({marker})', flush=True)
            return
        print(f'seeding {marker} ...', flush=True)
        started = time.monotonic()
        for table in [*tables.metadata.sorted_tables, 'bench_seed']:
            cur.execute(f'TRUNCATE TABLE `{getattr(table, "name", table)}`')
        password_hash = await Argon2Hasher().hash(PASSWORD)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        for statement in seed_sql(sizes, password_hash, now):
            cur.execute(statement)
        print(f'seeded in {time.monotonic() - started:.1f} s', flush=True)
        started = time.monotonic()
        stats = await container.stat_service()
        repaired = await stats.reconcile_users() + await stats.reconcile_posts()
        if repaired:
            raise SystemExit(f'the seed\'s stat rows were wrong: reconcile repaired {repaired}')
        print(f'stat rows exact: the reconcile job repaired none '
              f'({time.monotonic() - started:.1f} s)', flush=True)
        cur.execute('INSERT INTO bench_seed (sizes) VALUES (%s)', (marker,))
    finally:
        conn.close()
        await container.shutdown_resources()


# --- the SQL truth -------------------------------------------------------------

TIMELINE_IDS = ('SELECT p.id AS id FROM user_follow f JOIN post p ON p.user_id = f.following_id '
                'WHERE f.user_id = %s')


def truth_page(cur, reader: int, limit: int, before_id: int | None = None,
               window: int | None = None) -> list[int]:
    """The reader's page as the SQL pull defines it: posts of the followed authors,
    newest first; with a `window` (a tree whose timeline ends at its feeds'
    FEED_MAX_ITEMS, docs/api.md), only among the newest `window` of them."""
    sql, args = TIMELINE_IDS, [reader]
    if window:
        sql, args = (f'SELECT id FROM ({sql} ORDER BY p.id DESC LIMIT %s) w WHERE 1',
                     args + [window])
    if before_id is not None:
        sql, args = sql + ' AND id < %s', args + [before_id]
    cur.execute(sql + ' ORDER BY id DESC LIMIT %s', args + [limit])
    return [row[0] for row in cur.fetchall()]


def truth_total(cur, reader: int) -> int:
    cur.execute(f'SELECT COUNT(*) FROM ({TIMELINE_IDS}) t', [reader])
    return cur.fetchone()[0]


def truth_at(cur, reader: int, position: int) -> int:
    """The id of the post at 1-based `position` in the reader's timeline."""
    cur.execute(TIMELINE_IDS + ' ORDER BY p.id DESC LIMIT 1 OFFSET %s', [reader, position - 1])
    return cur.fetchone()[0]


# --- sessions ------------------------------------------------------------------

def log_in(url: str, username: str) -> str:
    with httpx.Client(base_url=url, timeout=60) as client:
        body = client.post('/account/login', json={'username': username,
                                                   'password': PASSWORD}).json()
        assert body['code'] == 'ok', body
        return client.cookies['session']


def timeline(client: httpx.Client, cookie: str, **query) -> tuple[dict, float]:
    """(answer, milliseconds)"""
    started = time.monotonic()
    answer = client.get('/post/following', params=query, cookies={'session': cookie})
    return answer.json(), (time.monotonic() - started) * 1000


def page_check(client: httpx.Client, cookie: str, label: str, want: list[int],
               **query) -> tuple[bool, str, dict]:
    """(ok, its mark, the answer) of one page against its truth: equal, and not
    empty unless it is the page past the window."""
    answer, ms = timeline(client, cookie, limit=LIMIT, **query)
    got = [p['id'] for p in answer.get('data', {}).get('posts', [])]
    ok = got == want and (bool(want) or label == 'past the window')
    return ok, f"{label} {'OK' if ok else 'MISMATCH'} ({ms:.0f} ms)", answer


def check_pages(url: str, cur, readers: list[tuple[str, int, str]], deep_ids: dict,
                window: int | None) -> bool:
    """Each reader's first and second page, and the deep page, against the SQL
    truth; with a `window`, also that the page just past it is empty."""
    all_ok = True
    with httpx.Client(base_url=url, timeout=120) as client:
        for name, reader, cookie in readers:
            truth1 = truth_page(cur, reader, LIMIT, window=window)
            checks = [('page 1', truth1, {})]
            if truth1:
                checks.append(('page 2', truth_page(cur, reader, LIMIT, truth1[-1], window),
                               {'beforeId': truth1[-1]}))
            deep = deep_ids.get(name, (0, None))[1]
            if deep:
                checks.append(('deep page', truth_page(cur, reader, LIMIT, deep, window),
                               {'beforeId': deep}))
            if window and deep and truth_total(cur, reader) > window:
                checks.append(('past the window', [],
                               {'beforeId': truth_at(cur, reader, window)}))
            marks, answers = [], []
            for label, want, query in checks:
                ok, mark, answer = page_check(client, cookie, label, want, **query)
                all_ok &= ok
                marks.append(mark)
                answers.append(answer)
            page1 = answers[0]
            total, want_total = page1.get('data', {}).get('total'), truth_total(cur, reader)
            all_ok &= total == want_total
            marks.append(f"total {'OK' if total == want_total else 'MISMATCH'} "
                         f"({total} / {want_total})")
            if page1.get('code') != 'ok':
                marks.append(f"answer {page1.get('code')}: {page1.get('message')}")
            print(f'{name}: ' + ', '.join(marks), flush=True)
    return all_ok


# --- processes -----------------------------------------------------------------

# --- load ----------------------------------------------------------------------

@dataclass
class Row:
    follows: int
    page: str
    rps: float
    share: float
    p50_ms: float
    p99_ms: float
    errors: int


def load(url: str, cookies: dict, deep_ids: dict, sizes: Sizes, base_rps: float,
         duration: int, connections: int) -> list[Row]:
    rows = []
    for follows in sizes.follows:
        paths = [('first', f'/post/following?limit={LIMIT}')]
        if deep_ids.get(reader_name(follows, 0)):
            position, before_id = deep_ids[reader_name(follows, 0)]
            paths.append((f'deep (beforeId at #{position:,})',
                          f'/post/following?limit={LIMIT}&beforeId={before_id}'))
        for page, path in paths:
            name = f'{follows} follows, {page} page'
            result = run_wrk(name, url + '/', SESSION_LUA,
                             {'WG_COOKIES': ','.join(cookies[follows]), 'WG_PATHS': path},
                             duration, connections)
            rows.append(Row(follows, page, result.rps, result.rps / base_rps,
                            result.p50_ms, result.p99_ms, result.errors + result.non_2xx))
            print(f'{name}: {result.rps:,.1f} req/s, p99 {result.p99_ms:.1f} ms, errors '
                  f'{result.errors}, non-2xx {result.non_2xx}', flush=True)
    return rows


def load_table(rows: list[Row]) -> list[str]:
    lines = ['| reader follows | page | req/s | % of bare Sanic | p50 ms | p99 ms | errors '
             f'| target ≥{TARGET_SHARE:.0%}, p99 ≤{TARGET_P99_MS} ms |',
             '|---:|---|---:|---:|---:|---:|---:|---|']
    for r in rows:
        met = r.share >= TARGET_SHARE and r.p99_ms <= TARGET_P99_MS and not r.errors
        lines.append(f'| {r.follows:,} | {r.page} | {r.rps:,.1f} | {r.share:.2%} | '
                     f'{r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | '
                     f"{'met' if met else 'NOT met'} |")
    first = {r.follows: r for r in rows if r.page == 'first'}
    low, high = min(first), max(first)
    scaling = first[high].rps / max(first[low].rps, 1e-9)
    lines += ['', f'The {high:,} reader\'s rate is **{scaling:.1%}** of the {low:,} '
                  f"reader's (target ≥{TARGET_SCALING:.0%}: "
                  f"{'met' if scaling >= TARGET_SCALING else 'NOT met'})."]
    return lines


# --- fan-out -------------------------------------------------------------------

async def rebuild_feeds(config: dict, fan_ids: range, concurrency: int = 32) -> int:
    """Every fan's feed built by the product's own FeedService.rebuild (the job a
    fan's first timeline read queues: one bounded statement and one feed write), in
    this process, `concurrency` at a time; how many it built."""
    from weiguan.container import build_container

    container = build_container(config)
    await container.init_resources()
    try:
        feeds = await container.feed_service()
        queue = list(reversed(fan_ids))
        built = 0

        async def builder() -> None:
            nonlocal built
            while queue:
                await feeds.rebuild(queue.pop())
                built += 1

        await asyncio.gather(*(builder() for _ in range(concurrency)))
        return built
    finally:
        await container.shutdown_resources()


def mark_active(url: str, config: dict, fan_ids: range) -> None:
    """Make the fans 'active' as the feed code counts activity (FEED_ACTIVE_DAYS):
    a reader is active while their feed exists (its TTL is refreshed by each read),
    so each fan's feed is built as their first read would build it. Adapt this one
    function if the feeds define activity otherwise."""
    started = time.monotonic()
    built = asyncio.run(rebuild_feeds(config, fan_ids))
    print(f'{len(fan_ids):,} fans active ({built:,} feeds built) in '
          f'{time.monotonic() - started:.0f} s', flush=True)


def feed_keys(redis) -> set[str]:
    """The feeds: the sorted sets of the bench's Redis db, named however the feed code
    names them, but for the session indexes (no other sorted set holds post ids)."""
    from weiguan.dependencies.sessions import USER_PREFIX
    return {key for key in redis.scan_iter(count=10_000, _type='zset')
            if not key.startswith(USER_PREFIX)}


class FeedWatch:
    """How many feeds hold a post id: each poll asks only the feeds that did not yet,
    and lists the feeds again every 2 s (a fan-out may create some)."""

    def __init__(self, redis, post_id: int):
        self.redis, self.member = redis, str(post_id)
        self.keys: set[str] = set()
        self.holding: set[str] = set()
        self.listed = 0.0

    def count(self) -> int:
        if time.monotonic() - self.listed > 2:
            self.keys, self.listed = feed_keys(self.redis), time.monotonic()
        pending = list(self.keys - self.holding)
        pipe = self.redis.pipeline(transaction=False)
        for key in pending:
            pipe.zscore(key, self.member)
        self.holding.update(key for key, score in zip(pending, pipe.execute())
                            if score is not None)
        return len(self.holding)


def feed_memory(redis) -> list[str]:
    """MEMORY USAGE of the fullest feeds, and INFO memory."""
    sizes = {key: redis.zcard(key) for key in feed_keys(redis)}
    if not sizes:
        return ['No feeds (sorted sets) in Redis: no feed memory to measure.']
    full = max(sizes.values())
    keys = [key for key, n in sizes.items() if n == full][:200]
    usage = statistics.mean(redis.memory_usage(key, samples=0) for key in keys)
    used = redis.info('memory')['used_memory']
    return [f'Feeds: {len(sizes):,} sorted sets; the fullest hold {full} items '
            f'({len(keys)} measured): {usage:,.0f} bytes each by MEMORY USAGE, '
            f'**{usage * 1000 / 2**20:.1f} MB per 1,000 full feeds**; Redis used_memory '
            f'{used / 2**20:.0f} MB in all.']


def reach(checks: dict, deadline: float = 60) -> dict:
    """For each named check, the seconds from now until it was first true (None
    past the deadline); the checks are polled side by side."""
    started, done = time.monotonic(), {}
    while len(done) < len(checks) and time.monotonic() - started < deadline:
        for name, check in checks.items():
            if name not in done and check():
                done[name] = time.monotonic() - started
        time.sleep(0.05)
    return {name: done.get(name) for name in checks}


def fan_out(url: str, config: dict, sizes: Sizes, reader_cookie: str,
            publishes: int, feeds: bool = True, light: int = 0) -> list[str]:
    """Step 4; `light`: wrk connections on a timeline beside the publishes (0: none;
    one server process is saturated by a few)."""
    import redis as redis_py

    redis = redis_py.Redis.from_url(config['REDIS_URI'], decode_responses=True)
    lines = []
    mark_active(url, config, sizes.fan_ids())
    sample = [log_in(url, f'fan{n}') for n in range(1, 21)]  # twenty logged-in followers
    author = log_in(url, f'author{POPULAR}')
    client = httpx.Client(base_url=url, timeout=60)

    def publish(text: str) -> tuple[int, float]:
        started = time.monotonic()
        body = client.post('/post/publish', json={'type': 'text', 'text': text},
                           cookies={'session': author}).json()
        assert body['code'] == 'ok', body
        return body['data']['post']['id'], (time.monotonic() - started) * 1000

    def in_sample(post_id: int) -> int:
        return sum(any(p['id'] == post_id for p in
                       timeline(client, cookie, limit=LIMIT)[0].get('data', {}).get('posts', []))
                   for cookie in sample)

    post_id, ms = publish('fan-out probe')
    checks = {'sample': lambda: in_sample(post_id) == len(sample)}
    if feeds:  # the job's end, as the feed code marks it: its pending entry cleared
        from weiguan.dependencies.feeds_redis import PENDING
        checks['redis'] = lambda: not redis.hexists(PENDING, str(post_id))
    seconds = reach(checks)
    line = (f'Post {post_id} published in {ms:.0f} ms; in all 20 logged-in followers\' '
            f'timelines after {fmt_s(seconds["sample"])}')
    if feeds:  # then every feed asked, once the job is done (asking during it slows it)
        line += (f'; fan-out job done after {fmt_s(seconds["redis"])}, and then in '
                 f'{FeedWatch(redis, post_id).count():,} Redis feeds (followers: '
                 f'{sizes.fans:,})'
                 + (f': **{sizes.fans / seconds["redis"]:,.0f} feed inserts/s**'
                    if seconds['redis'] else ''))
    lines.append(line + ' (seconds from the publish\'s answer).')
    client.post('/post/delete', json={'id': post_id}, cookies={'session': author})
    gone = reach({'sample': lambda: in_sample(post_id) == 0})['sample']
    lines.append(f'Its deletion: gone from the 20 timelines after {fmt_s(gone)}.')

    load = subprocess.Popen(
        ['wrk', '-t1', f'-c{light}', f'-d{publishes // 2 + 10}s', '-s', SESSION_LUA,
         url + '/'], env=os.environ | {'WG_COOKIES': reader_cookie, 'WG_THREADS': '1',
                                       'WG_PATHS': f'/post/following?limit={LIMIT}'},
        stdout=subprocess.DEVNULL) if light else None
    time.sleep(1)
    published = []
    for n in range(publishes):
        published.append(publish(f'publish latency probe {n}'))
        time.sleep(0.25)
    if load:
        load.terminate()
        load.wait()
    latencies = sorted(ms for _, ms in published)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    beside = (f'beside wrk -c{light} on a timeline' if light else
              'while the worker fans out the posts before it (no other load)')
    lines.append(f'Publish {beside}, {publishes} posts: '
                 f'p50 {statistics.median(latencies):.0f} ms, **p99 {p99:.0f} ms** '
                 f'(target ≤{TARGET_P99_MS} ms).')
    for post_id, _ in published:
        client.post('/post/delete', json={'id': post_id}, cookies={'session': author})
    lines += feed_memory(redis)
    client.close()
    return lines


def fmt_s(seconds: float | None) -> str:
    return 'more than 60 s (gave up)' if seconds is None else f'**{seconds:.2f} s**'


# --- main ----------------------------------------------------------------------

def bench_config(quick: bool) -> dict:
    from weiguan.config import load_config
    return load_config(
        MYSQL_HOST=os.environ.get('WG_TEST_MYSQL_HOST', '127.0.0.1'),
        MYSQL_DB=os.environ.get('WG_BENCH_MYSQL_DB',
                                'weiguan_bench_scale' + ('_quick' if quick else '')),
        MYSQL_USER=os.environ.get('WG_TEST_MYSQL_USER', 'root'),
        MYSQL_PASSWORD=os.environ.get('WG_TEST_MYSQL_PASSWORD', ''),
        REDIS_URI=os.environ.get('WG_BENCH_REDIS_URI', 'redis://127.0.0.1:6315/13'),
        MYSQL_TIMEOUT=0)  # seeding runs statements of many seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='small sizes, to test the script')
    parser.add_argument('--reseed', action='store_true')
    parser.add_argument('--duration', type=int, default=10, help='seconds per wrk run')
    parser.add_argument('--connections', type=int, default=32)
    parser.add_argument('--workers', type=int, default=1, help='`worker run` processes')
    parser.add_argument('--publishes', type=int, default=20,
                        help='posts published for the publish latency')
    parser.add_argument('--publish-load', type=int, default=0,
                        help='wrk connections on a timeline beside the timed publishes')
    parser.add_argument('--fan-out-anyway', action='store_true',
                        help='run the fan-out step without a worker command too (to test '
                             'this script: the pull shows a post at once, Redis holds '
                             'no feeds)')
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    ensure_wrk()
    config = bench_config(args.quick)
    asyncio.run(seed(config, sizes, args.reseed))

    import redis as redis_py
    ensure_redis(config['REDIS_URI'])
    redis_py.Redis.from_url(config['REDIS_URI']).flushdb()  # as after a restore
    data_path = tempfile.mkdtemp(prefix='weiguan-bench-scale-')
    port = free_port()
    env = server_env(config, port, 1, data_path)
    has_worker, why_not = worker_command(env)
    settings = ''
    if 'FANOUT_MAX_FOLLOWERS' in config and \
            'WG_BENCH_SERVER_FANOUT_MAX_FOLLOWERS' not in os.environ:
        # the fan-out figure is of an author fanned out to 100,000 followers: above the
        # default threshold, which would merge that author's posts at read time instead
        env['WG_FANOUT_MAX_FOLLOWERS'] = str(sizes.fans + 1000)
        settings = f' FANOUT_MAX_FOLLOWERS={sizes.fans + 1000}.'
    report = [f'# Timeline scale, {datetime.datetime.now():%Y-%m-%d %H:%M}', '',
              f'{os.cpu_count()} cores; wrk -t2 -c{args.connections} -d{args.duration}s; '
              f'MariaDB ({config["MYSQL_DB"]}) + Redis, one server process'
              + (f' and {args.workers} `worker run`' if has_worker else ', no worker command')
              + f'. Seed: {sizes.posts:,} posts by {sizes.authors:,} authors; '
              f'{sizes.readers_per_class} readers following each of '
              f'{", ".join(f"{f:,}" for f in sizes.follows)} authors; author {POPULAR} '
              f'followed by {sizes.fans:,} fans. Redis flushed before the start.{settings}', '']

    base = measure_baseline(args.duration, args.connections)
    report += [f'Bare Sanic baseline: **{base.rps:,.0f} req/s**, p50 {base.p50_ms:.1f} ms, '
               f'p99 {base.p99_ms:.1f} ms.', '']
    server = Process([PYTHON, '-m', 'weiguan.web.app'], env=env, port=port)
    workers = [Process([PYTHON, '-m', 'weiguan.cli.app', 'worker', 'run'], env=env)
               for _ in range(args.workers if has_worker else 0)]
    conn = mysql(config)
    try:
        server.wait_ready('/health')
        cur = conn.cursor()
        readers, cookies, deep_ids = [], {}, {}
        # a tree with feeds ends the timeline at the feed's window (docs/api.md)
        window = int(config['FEED_MAX_ITEMS']) if 'FEED_MAX_ITEMS' in config else None
        for klass, follows in enumerate(sizes.follows):
            for k in range(sizes.readers_per_class):
                name = reader_name(follows, k)
                cookie = log_in(server.url, name)
                readers.append((name, sizes.reader_id(klass, k), cookie))
                cookies.setdefault(follows, []).append(cookie)
            first = sizes.reader_id(klass, 0)
            position = min(sizes.deep, truth_total(cur, first) - LIMIT,
                           (window or sizes.deep + LIMIT) - LIMIT)
            if position > LIMIT:
                deep_ids[reader_name(follows, 0)] = (position, truth_at(cur, first, position))
        pages_ok = check_pages(server.url, cur, readers, deep_ids, window)
        report.append('Pages against the SQL truth (first, second, deep, total): '
                      + ('**OK**' if pages_ok else '**MISMATCH** (see the log above)') + '.')
        rows = load(server.url, cookies, deep_ids, sizes, base.rps, args.duration,
                    args.connections)
        report += [''] + load_table(rows) + ['']
        if has_worker or args.fan_out_anyway:
            report += fan_out(server.url, config, sizes, cookies[sizes.follows[0]][0],
                              args.publishes, feeds=has_worker, light=args.publish_load)
        else:
            report.append(f'Fan-out skipped: {why_not} (this tree has no job worker).')
        report.append(f'\nServer RSS at the end: {server.rss_mb():.0f} MB.')
    finally:
        conn.close()
        for process in [*workers, server]:
            process.stop()
    write_results(report, '-timeline-scale' + ('-quick' if args.quick else ''))


if __name__ == '__main__':
    main()
