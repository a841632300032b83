"""Fault injection between a server under test and the shared MariaDB / Redis, which
must never be stopped (other test runs use them). A `TcpProxy` on a free port of
127.0.0.1 forwards to the real server; the server under test is configured to connect
through it, and the test cuts and restores the link:

- `cut('refuse')`: what a crash or restart of the backend looks like: every open
  connection is reset and every new one is reset as soon as it is accepted;
- `cut('blackhole')`: a network partition: open connections stay up but no byte goes
  through, new connections are accepted and never answered;
- `restore()`: bytes flow again (held bytes of a partition are delivered late, as TCP
  would retransmit them) and new connections are forwarded.

Also `ServerProcess` (the server as users run it, `python -m weiguan.web.app`, on a
free port) and `Recorder` (timed request outcomes, summed up into the figures that
the tests print and docs/reliability.md quotes).
"""
import asyncio
import collections
import resource
import signal
import socket
import time
from dataclasses import dataclass, field

import httpx

from tests.support.processes import ConfiguredProcess



class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.mode = 'open'          # 'open', 'refuse' or 'blackhole'
        self.accepted = 0           # connections accepted, in all
        self.reset = 0              # connections reset by cut('refuse')
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self._tasks: set[asyncio.Task] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> 'TcpProxy':
        self._server = await asyncio.start_server(self._accept, '127.0.0.1', 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def live(self) -> int:
        """Connections open through the proxy now."""
        return len(self._links)

    def cut(self, mode: str = 'refuse') -> None:
        assert mode in ('refuse', 'blackhole'), mode
        self.mode = mode
        self._flowing.clear()
        if mode == 'refuse':
            for link in list(self._links):
                self.reset += 1
                self._abort(link)

    def restore(self) -> None:
        self.mode = 'open'
        self._flowing.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            self._abort(link)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _abort(self, link) -> None:
        self._links.discard(link)
        for writer in link:
            if writer is not None:
                writer.transport.abort()  # RST, as a dead peer would leave it

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == 'refuse':
            writer.transport.abort()
            return
        link = (writer, None)
        self._links.add(link)
        try:
            await self._flowing.wait()  # partitioned: accepted, never answered
            if link not in self._links:  # reset meanwhile
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except (OSError, asyncio.CancelledError):
            self._abort(link)
            return
        self._links.discard(link)
        if self.mode == 'refuse':  # cut while connecting
            up_writer.transport.abort()
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.add(link)
        self._spawn(self._pump(reader, up_writer, link))
        self._spawn(self._pump(up_reader, writer, link))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    link) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await self._flowing.wait()
                if link not in self._links:
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if link in self._links:
                self._links.discard(link)
                for side in link:
                    side.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class ServerProcess(ConfiguredProcess):
    """`python -m weiguan.web.app` on a free port, configured like `config`."""

    def __init__(self, config: dict, log_path: str, nofile: int | None = None,
                 **env_overrides: str):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        limit = None if nofile is None else (
            lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile)))
        super().__init__('weiguan.web.app', [], config, log_path,
                         {'WG_PORT': str(self.port), 'WG_ACCESS_LOG': 'false',
                          **env_overrides}, preexec_fn=limit)

    def log(self) -> str:
        return super().log()[-4000:]

    async def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if (await client.get('/ready')).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f'server on {self.port} did not start:\n{self.log()}')

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)



@dataclass
class Outcome:
    action: str
    started: float
    ended: float
    status: int | None           # None: no HTTP answer (transport error)
    code: str | None
    detail: str = ''
    body: dict | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Recorder:
    """Every request's outcome, with times relative to `t0`."""
    t0: float = field(default_factory=time.monotonic)
    outcomes: list[Outcome] = field(default_factory=list)
    cut_at: float | None = None          # when the fault began and ended, if any
    restored_at: float | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def call(self, action: str, request) -> Outcome:
        """Await `request` (an httpx coroutine) and record what the user saw."""
        started = self.now()
        try:
            response = await request
        except httpx.HTTPError as error:
            outcome = Outcome(action, started, self.now(), None, None,
                              f'{type(error).__name__}: {error}')
        else:
            try:
                body = response.json()
                code, detail = body.get('code'), body
            except ValueError:
                body, code, detail = None, None, response.text[:200]
            outcome = Outcome(action, started, self.now(), response.status_code, code,
                              '' if response.status_code == 200 else str(detail), body)
        self.outcomes.append(outcome)
        return outcome

    def counts(self, outcomes=None) -> dict[str, int]:
        """{'200 ok': n, '503 unavailable': m, ...}"""
        outcomes = self.outcomes if outcomes is None else outcomes
        return dict(sorted(collections.Counter(
            f'{o.status} {o.code}' for o in outcomes).items()))

    def slowest(self) -> float:
        return max((o.seconds for o in self.outcomes), default=0.0)


def memory_mb(pid: int, field: str = 'VmRSS') -> float:
    """A process's memory from /proc, in MB: VmRSS now, VmHWM its peak."""
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise AssertionError(f'no {field} for {pid}')


def figure(name: str, **values) -> None:
    """One line of figures, printed for `pytest -s` (quoted in docs/reliability.md)."""
    text = ', '.join(f'{key}={value}' for key, value in values.items())
    print(f'\nRELIABILITY {name}: {text}', flush=True)
