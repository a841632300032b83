"""Oversized bodies against the server as users run it (its own process): /health
keeps answering promptly during the attack, and the server's peak memory stays
under 300 MB. (Bounded: a few dozen requests, one server, 127.0.0.1.)"""
import asyncio
import time

import httpx
import orjson
import pytest

from .conftest import test_config as make_config
from .faults import ServerProcess, figure, memory_mb
from .raw_http import open_raw
from .support import PASSWORD, unique_name

MB = 1024 * 1024
HEALTH_BUDGET = 0.1  # seconds: no request may hold the event loop longer


def peak_rss_mb(pid: int) -> float:
    return memory_mb(pid, 'VmHWM')


@pytest.fixture
async def process(tmp_path):
    config = make_config(tmp_path, DB_CREATE_TABLES=True)
    server = ServerProcess(config, str(tmp_path / 'server.log'))
    try:
        await server.wait_ready()
        yield server
    finally:
        server.kill()


async def push_body(url, path, length, cookie=None, chunk=b'a.' * 32768):
    """Send headers announcing `length` bytes, then write until the server answers
    or closes; returns the status line."""
    reader, writer = await open_raw(url)
    head = (f'POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n'
            f'Content-Length: {length}\r\n' + (f'Cookie: session={cookie}\r\n' if cookie
                                                else '') + '\r\n')
    writer.write(head.encode())
    sent = 0
    try:
        while sent < length and not reader.at_eof():
            writer.write(chunk)
            sent += len(chunk)
            await asyncio.wait_for(writer.drain(), 5)
            if reader._buffer:  # an answer came
                break
        line = await asyncio.wait_for(reader.readline(), 10)
    except (ConnectionError, asyncio.TimeoutError):
        line = b'closed'
    writer.close()
    return line


async def test_huge_bodies_neither_stall_the_loop_nor_grow_memory(process):
    async with httpx.AsyncClient(base_url=process.url, timeout=10) as user:
        await user.post('/account/register', json={'username': unique_name(),
                                                   'password': PASSWORD})
        cookie = user.cookies['session']
        latencies, done = [], asyncio.Event()

        async def poll_health():
            async with httpx.AsyncClient(base_url=process.url, timeout=10) as probe:
                while not done.is_set():
                    started = time.perf_counter()
                    assert (await probe.get('/health')).status_code == 200
                    latencies.append(time.perf_counter() - started)
                    await asyncio.sleep(0.02)

        poller = asyncio.create_task(poll_health())
        attacks = [push_body(process.url, '/account/send/email/verify/code', 90 * MB)
                   for _ in range(5)]
        attacks += [push_body(process.url, '/account/login', 95 * MB) for _ in range(5)]
        attacks += [push_body(process.url, '/post/publish', 40 * MB, cookie)
                    for _ in range(3)]
        attacks += [push_body(process.url, '/storage/upload', 95 * MB) for _ in range(3)]
        results = await asyncio.gather(*attacks)
        # a body just under the JSON limit, of strings where ids belong
        items = orjson.dumps({'type': 'image', 'imageIds': ['x'] * 6000})
        for _ in range(20):
            answer = await user.post('/post/publish', content=items,
                                     headers={'Content-Type': 'application/json'})
            assert answer.status_code == 400
        done.set()
        await poller
    # refused from the headers; a client still writing may see the reset first
    assert all(b' 413 ' in r or b' 401 ' in r or r == b'closed' for r in results), results
    figure('body attack', requests=len(results) + 20, health_polls=len(latencies),
           slowest_health_ms=round(max(latencies) * 1000, 1),
           peak_rss_mb=round(peak_rss_mb(process.process.pid)))
    assert latencies  # /health was polled while the attack ran
    assert max(latencies) < HEALTH_BUDGET, sorted(latencies)[-5:]
    assert peak_rss_mb(process.process.pid) < 300
