"""Where a server's CPU went, from py-spy's collapsed stacks (--format raw).

    .venv/bin/python bench/profile_summary.py STACKS.txt [REQ_PER_S SECONDS RATE]

Each sample is charged to the innermost frame that belongs to a known layer (the
package that was running, whoever called it; asyncio's stream and loop code is
charged to the layer that called it), so the table says how much of a request
each layer costs. py-spy records only samples where the thread was not
idle; with the scenario's req/s, the sampled seconds and the sampling rate, the
samples also give CPU microseconds per request."""
import collections
import re
import sys

LAYERS = [  # (name, pattern on 'function (file:line)'), checked innermost frame first
    ('sanic-session', r'\((sanic_session/|weiguan/web/sessions\.py|weiguan/dependencies/sessions)'),
    ('sanic', r'\((sanic|sanic_routing|httptools)/|^(connection_task|http1_\w+) '),
    ('sqlalchemy', r'\(sqlalchemy/'),
    ('aiomysql / pymysql', r'\((aiomysql|pymysql)/'),
    ('redis-py', r'\(redis/'),
    ('marshmallow / dumps', r'\((marshmallow/|weiguan/entities/dumping\.py)'),
    ('weiguan', r'\(weiguan/'),
]
ASYNCIO = re.compile(r'\((asyncio/|uvloop|selectors\.py|ssl\.py)')


def layer_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in LAYERS:
            if re.search(pattern, frame):
                return name
    return 'asyncio loop' if any(ASYNCIO.search(f) for f in frames) else 'other'


def summary(lines: list[str], rps: float = 0, seconds: float = 0, rate: int = 0) -> str:
    by_layer, leaf = collections.Counter(), collections.Counter()
    for line in lines:
        stack, _, count = line.rpartition(' ')
        if stack:
            frames = stack.split(';')
            by_layer[layer_of(frames)] += int(count)
            leaf[frames[-1]] += int(count)
    total = sum(by_layer.values())
    if not total:
        return 'no samples'
    per_request = (lambda n: n / rate / (rps * seconds) * 1e6) if rps and seconds and rate \
        else None
    out = [f'{total} busy samples' + (f', ~{per_request(total):.0f} µs CPU per request'
                                      if per_request else '')]
    for name, count in by_layer.most_common():
        micros = f'  ~{per_request(count):4.0f} µs' if per_request else ''
        out.append(f'  {name:<22} {count / total:6.1%}{micros}')
    out.append('  hottest functions (self time):')
    for frame, count in leaf.most_common(12):
        out.append(f'    {count / total:6.1%}  {frame[:110]}')
    return '\n'.join(out)


if __name__ == '__main__':
    with open(sys.argv[1]) as f:
        numbers = [float(x) for x in sys.argv[2:5]]
        print(summary(f.read().splitlines(), *numbers))
