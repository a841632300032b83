"""Reads run side by side, so that their Redis commands leave in one round trip
(dependencies/redis_batching.py), at the cost of as few tasks as can be.

`asyncio.gather` wraps every read in a task, and a task per read was a tenth of an
/account/info's CPU. Here the first read is awaited in the caller's own task and
only the others become tasks: they are scheduled before the first read sends its
command, so their first steps run, and send theirs, before the batch that command
opened is flushed. A lone read is awaited directly."""
import asyncio
from typing import Any, Awaitable


async def concurrently(*reads: Awaitable[Any] | None) -> list[Any]:
    """The results of `reads`, in order (None where a read is None: not needed).
    As with gather, an error is raised to the caller while the other reads run on
    (their errors taken, so none is logged as never retrieved), and a caller
    cancelled cancels them all. Unlike gather, the error raised is the first in the
    reads' order, not in time: the reads here leave in one batch and end together."""
    needed = [read for read in reads if read is not None]
    if len(needed) > 1:
        first, *rest = needed
        started = [asyncio.ensure_future(read) for read in rest]
        try:
            results = [await first]
            for task in started:
                results.append(await task)
        except asyncio.CancelledError:
            for task in started:
                task.cancel()
            raise
        except BaseException:
            for task in started:
                task.add_done_callback(_taken)
            raise
        done = iter(results)
    else:
        done = iter([await needed[0]] if needed else [])
    return [None if read is None else next(done) for read in reads]


def _taken(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
