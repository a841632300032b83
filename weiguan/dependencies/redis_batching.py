"""Automatic pipelining for the shared Redis client: the commands that the server's
tasks send during one turn of the event loop leave together, as one non-transactional
pipeline on one connection, instead of one connection checkout and one round trip
each (ioredis's `enableAutoPipelining`, the same idea).

Why: redis-py 8 spends ~50 µs of Python per command outside the network (pool lock,
observability hooks, a task wake-up per reply); a page sends several commands side
by side (the session, the credential version, the cache entries) and 32 clients send
theirs at once. Measured in bench/redis_batching_bench.py: 4 commands a request,
32 at once: 209 µs of CPU a request one by one, 79 µs batched. A batch is written and
read on a pooled connection directly, not through redis-py's Pipeline (see
`_send_once`): a warm /post/info then answered ~20% more requests a second.

What stays the same for a caller: each command answers its own result, or raises
its own error (a ResponseError such as NOSCRIPT only to its sender; a connection
error to every command of the batch, as it would have to each). Commands keep the
order they were sent in (consecutive MGETs go as one: _merged_reads). A
non-transactional `client.pipeline()` joins the batch too (BatchedPipeline);
transactions (MULTI/EXEC, WATCH) and pipelines with registered scripts stay
redis-py's own. A caller that stops waiting (a deadline) leaves its
command in the batch, as a command already sent would be."""
import asyncio
from typing import Any, Mapping, Sequence

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis import exceptions as redis_errors

Pending = tuple[tuple[Any, ...], Mapping[str, Any], asyncio.Future]


class Deadlines:
    """The deadlines of the batches being read, on one coarse timer instead of one
    timer each (asyncio.timeout: a uvloop timer per batch cost ~15 µs, nearly half
    of a small batch). A batch still reading when its deadline has passed has its
    task cancelled, at most `tick` late, and `end` tells the batch that the
    cancellation was its deadline (asyncio.timeout's way, with one timer for all)."""

    def __init__(self, tick: float = 0.05):
        self.tick = tick
        self._due: dict[asyncio.Task, float] = {}
        self._expired: set[asyncio.Task] = set()
        self._timer: asyncio.TimerHandle | None = None

    def start(self, seconds: float | None) -> None:
        """A deadline `seconds` from now for the current task (None: no deadline)."""
        task = asyncio.current_task()
        if seconds is None or task is None:
            return
        loop = asyncio.get_running_loop()
        self._due[task] = loop.time() + seconds
        if self._timer is None:
            self._timer = loop.call_later(self.tick, self._check)

    def end(self) -> bool:
        """The current task's deadline ended: True if it had passed (the task was
        cancelled for it; that cancellation is taken back)."""
        task = asyncio.current_task()
        if task is None:
            return False
        self._due.pop(task, None)
        if task not in self._expired:
            return False
        self._expired.discard(task)
        task.uncancel()
        return True

    def _check(self) -> None:
        loop = asyncio.get_running_loop()
        now, self._timer = loop.time(), None
        for task, due in list(self._due.items()):
            if due <= now:
                del self._due[task]
                self._expired.add(task)
                task.cancel()
        if self._due:
            self._timer = loop.call_later(self.tick, self._check)


class CommandBatch:
    """The commands sent during this turn of the loop, and the pipelines in flight."""

    def __init__(self, client: aioredis.Redis):
        self.client = client  # a plain client on the same pool: it parses the replies,
        # and its pipelines send a batch again after a connection error
        self.pending: list[Pending] = []
        self.sending: set[asyncio.Task] = set()
        self.deadlines = Deadlines()

    def send(self, args: tuple[Any, ...], options: Mapping[str, Any]) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self.pending:
            loop.call_soon(self._flush)  # after every task ready now has run
        self.pending.append((args, options, future))
        return future

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        task = asyncio.get_running_loop().create_task(self._execute(batch))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)

    async def _execute(self, batch: list[Pending]) -> None:
        try:
            try:
                results = await self._send_once(batch)
            except (redis_errors.ConnectionError, ConnectionError):  # not a timeout:
                results = await self._send_pipelined(batch)  # a silent Redis waits once
        except asyncio.CancelledError:
            for *_, future in batch:
                future.cancel()
            raise
        except Exception as error:  # the connection: every command of the batch failed
            for *_, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, _, future), result in zip(batch, results):
            if future.done():  # its caller gave up waiting
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _send_once(self, batch: list[Pending]) -> list[Any]:
        """The batch written at once on a pooled connection and its replies read, each
        through the client's own parse_response (its reply callbacks): what
        Pipeline.execute does without its retries, observability hooks and stack
        (a third of a warm /post/info's CPU was Pipeline.execute).

        The connection's socket timeout becomes one deadline for the whole batch, on
        the batches' shared timer (Deadlines): redis-py arms a timer for every reply,
        and those timers were a fifth of a timeline page's CPU (docs/performance.md).
        Any error disconnects the connection. On a connection error (one Redis
        closed, say) the caller sends the batch again through a pipeline, which
        reconnects and retries as redis-py does; a timeout fails the batch at once,
        so a partitioned Redis costs a request one socket timeout, not two."""
        client, pool = self.client, self.client.connection_pool
        commands = _merged_reads(batch)
        conn = await pool.get_connection()
        seconds, conn.socket_timeout = conn.socket_timeout, None
        self.deadlines.start(seconds)
        try:
            await conn.send_packed_command(conn.pack_commands([args for args, _, _ in commands]))
            results: list[Any] = []
            for args, options, counts in commands:
                try:
                    result = await client.parse_response(conn, args[0], **options)
                except redis_errors.ResponseError as error:
                    result = error
                results += [result] if counts is None else _split(result, counts)
            self.deadlines.end()
            return results
        except BaseException as error:
            expired = self.deadlines.end()
            await conn.disconnect()  # replies may be left unread on it
            if expired:
                raise redis_errors.TimeoutError(
                    f'Timeout reading from Redis ({seconds} s)') from error
            raise
        finally:
            conn.socket_timeout = seconds
            await pool.release(conn)

    async def _send_pipelined(self, batch: list[Pending]) -> list[Any]:
        async with self.client.pipeline(transaction=False) as pipe:
            for args, options, _ in batch:
                pipe.execute_command(*args, **options)
            return await pipe.execute(raise_on_error=False)


def _merged_reads(batch: list[Pending]) -> list[tuple[Sequence[Any], Mapping[str, Any],
                                                      list[int] | None]]:
    """The batch's commands, each run of consecutive MGETs sent as one MGET of all
    their keys, with how many keys each asked for (None: a command as it came). A
    page's reads are mostly MGETs of the cache side by side (profiles, files, stats,
    the viewer's sets), and each command costs its own packing and reply parsing;
    one MGET of their keys reads the same values at the same point of the batch,
    since only consecutive ones merge (no write of the batch comes between). This
    client speaks to one Redis: keys of any slot may share an MGET."""
    commands: list[tuple[Sequence[Any], Mapping[str, Any], list[int] | None]] = []
    run: list[Any] | None = None  # the merged MGET being built as commands[-1]
    counts: list[int] = []
    alone = False  # commands[-1] is an MGET as it came, which the next one may join
    for args, options, _ in batch:
        if args[0] != 'MGET' or len(args) < 2:  # an empty MGET answers its own error
            commands.append((args, options, None))
            run, alone = None, False
        elif run is not None:
            run += args[1:]
            counts.append(len(args) - 1)
        elif alone:  # a second one: the two become one merged MGET
            first = commands[-1][0]
            run, counts = ['MGET', *first[1:], *args[1:]], [len(first) - 1, len(args) - 1]
            commands[-1] = (run, {}, counts)
            alone = False
        else:
            commands.append((args, options, None))
            alone = True
    return commands


def _split(result: Any, counts: list[int]) -> list[Any]:
    """A merged MGET's answer, as each MGET's own (an error: each gets it)."""
    if isinstance(result, Exception):
        return [result] * len(counts)
    parts, start = [], 0
    for count in counts:
        parts.append(result[start:start + count])
        start += count
    return parts


class BatchedPipeline(Pipeline):
    """A non-transactional pipeline whose commands join the current CommandBatch when
    it is executed: the same answers and errors as redis-py's pipeline (the first
    error raised, or each in its place), but none of its per-pipeline cost (a feed
    read's pipeline was a ninth of a timeline page's CPU), and it shares the round
    trip of the commands sent beside it."""

    def __init__(self, client: 'AutoPipelinedRedis'):
        super().__init__(client.connection_pool, client.response_callbacks, False, None)
        self.batch = client.command_batch()

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        if self.watching or self.scripts:  # WATCH, registered scripts: redis-py's own
            return await super().execute(raise_on_error)
        stack = list(self.command_stack)  # reset() empties the pipeline
        try:
            futures = [self.batch.send(args, options) for args, options in stack]
            results = list(await asyncio.gather(*futures, return_exceptions=True))
        finally:
            await self.reset()
        if raise_on_error:
            self.raise_first_error(stack, results)
        return results


class AutoPipelinedRedis(aioredis.Redis):
    """redis-py's asyncio client whose single commands go through a CommandBatch, and
    whose non-transactional pipelines too (BatchedPipeline)."""
    _batch: CommandBatch | None = None

    def command_batch(self) -> CommandBatch:
        batch = self._batch
        if batch is None:
            batch = self._batch = CommandBatch(
                aioredis.Redis(connection_pool=self.connection_pool))
        return batch

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await self.command_batch().send(args, options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        if transaction or shard_hint is not None:
            return super().pipeline(transaction, shard_hint)
        return BatchedPipeline(self)
