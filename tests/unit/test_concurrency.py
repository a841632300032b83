"""services/concurrency.concurrently: reads side by side, their commands in one batch,
with gather's answers, errors and cancellation."""
import asyncio
import gc

import pytest

from weiguan.services.concurrency import concurrently


class Batches:
    """The Redis batcher's timing (dependencies/redis_batching.py): what is sent
    during one turn of the loop leaves together, flushed by a callback scheduled at
    the first send; each value is answered times ten."""

    def __init__(self):
        self.sent: list[list[int]] = []
        self._pending: list[tuple[int, asyncio.Future]] = []

    def send(self, value: int) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((value, future))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self.sent.append([value for value, _ in batch])
        for value, future in batch:
            if not future.done():
                future.set_result(value * 10)


async def read(batches: Batches, value: int) -> int:
    return await batches.send(value)


async def test_reads_leave_in_one_batch_and_answer_in_order():
    batches = Batches()
    assert await concurrently(read(batches, 1), None, read(batches, 2),
                              read(batches, 3)) == [10, None, 20, 30]
    assert batches.sent == [[1, 2, 3]]


async def test_reads_of_two_round_trips_each_share_both():
    batches = Batches()

    async def twice(value: int) -> int:
        return await batches.send(value) + await batches.send(value + 1)
    assert await concurrently(twice(1), twice(10)) == [30, 210]
    assert batches.sent == [[1, 10], [2, 11]]


@pytest.mark.parametrize('reads, answers', [((), []), ((None,), [None]),
                                            ((None, 'one'), [None, 10])])
async def test_no_read_or_a_lone_one(reads, answers):
    batches = Batches()
    assert await concurrently(*(read(batches, 1) if r else None for r in reads)) == answers


async def test_an_error_is_raised_while_the_other_reads_run_to_their_end():
    batches = Batches()
    finished = asyncio.Event()
    unretrieved = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: unretrieved.append(context))

    async def failing() -> int:
        await batches.send(1)
        raise ValueError('the first read failed')

    async def write_like() -> int:
        value = await batches.send(2)
        finished.set()
        return value

    async def also_failing() -> int:
        await batches.send(3)
        raise KeyError('a later read failed too')

    with pytest.raises(ValueError, match='the first read failed'):
        await concurrently(failing(), write_like(), also_failing())
    assert await asyncio.wait_for(finished.wait(), 10)  # not cancelled: it ran to its end, as under gather
    assert batches.sent == [[1, 2, 3]]
    gc.collect()
    assert unretrieved == []  # the later read's KeyError was taken


async def test_a_cancelled_caller_cancels_every_read():
    started = asyncio.Event()
    cancelled = []

    async def forever(name: str) -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    caller = asyncio.ensure_future(concurrently(forever('first'), forever('second'),
                                                forever('third')))
    await started.wait()
    await asyncio.sleep(0)  # a turn of the loop: the others start too
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert sorted(cancelled) == ['first', 'second', 'third']
