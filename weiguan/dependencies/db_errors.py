"""The one place that turns driver failures into the product's errors: a lost or
refused connection becomes Unavailable (503), a unique-index violation Duplicate, a
deadlock or lock wait timeout a Conflict (retried by `retry_conflicts`). Both
drivers (MYSQL_DRIVER) are known here: asyncmy raises its own classes, with the
same MySQL error codes in `args[0]`, and aiomysql pymysql's."""
import asyncio
import functools
import logging
import random
from typing import Callable

import pymysql
from asyncmy import errors as asyncmy_errors
from sqlalchemy import exc

from ..entities.errors import Duplicate, Unavailable

log = logging.getLogger('weiguan.dependencies.database')  # the name its lines always had


# The drivers' own classes, for errors raised outside SQLAlchemy's wrapping.
OPERATIONAL = (pymysql.err.OperationalError, asyncmy_errors.OperationalError)
INTERFACE = (pymysql.err.InterfaceError, asyncmy_errors.InterfaceError)
INTEGRITY = (pymysql.err.IntegrityError, asyncmy_errors.IntegrityError)

# Errors after which a driver connection may be mid-query: never reused.
CONNECTION_BROKEN = (*OPERATIONAL, *INTERFACE, OSError, asyncio.CancelledError)


# InnoDB's deadlock (its victim's transaction was rolled back) and lock wait timeout:
# the server refused the transaction, the connection is fine, a retry may succeed.
CONFLICT_CODES = (1213, 1205)
CONFLICT_ATTEMPTS = 4
CONFLICT_BACKOFF = 0.02  # seconds, times the attempt number, jittered


def _conflict(error: BaseException) -> bool:
    cause = getattr(error, 'orig', None) or error
    return (isinstance(cause, OPERATIONAL) and bool(cause.args)
            and cause.args[0] in CONFLICT_CODES)


def intact(error: BaseException) -> bool:
    """Whether the connection is still in step after the error: the server refused
    a statement (a duplicate key, a deadlock), or the caller's own code raised."""
    return isinstance(error, Exception) and (
        not isinstance(error, CONNECTION_BROKEN) or _conflict(error))


class Conflict(Unavailable):
    """A deadlock or lock wait timeout that outlasted its retries: still a 503."""


def retry_conflicts(method):
    """Run a repository method that is one whole transaction again, up to
    CONFLICT_ATTEMPTS times in all, when MariaDB rolled it back for a deadlock or a
    lock wait timeout (both are normal under concurrency: InnoDB picks a victim);
    only then does its caller answer 503. Only for methods whose transaction is
    their own: a block inside a larger transaction cannot be replayed alone."""
    @functools.wraps(method)
    async def retried(*args, **kwargs):
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return await method(*args, **kwargs)
            except Conflict as error:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                log.info('retrying %s after %s', method.__qualname__, error.__cause__)
                await asyncio.sleep(CONFLICT_BACKOFF * attempt * (0.5 + random.random()))
    return retried


ErrorCounter = Callable[[str], None]  # called with the kind of each database failure


def error_kind(error: Exception, translated: Exception) -> str:
    """duplicate, timeout (a deadline or a pool wait) or connection (lost, refused)."""
    return ('duplicate' if isinstance(translated, Duplicate) else 'timeout'
            if isinstance(error, (TimeoutError, exc.TimeoutError)) else 'connection')


def translate(error: Exception) -> Exception | None:
    """The product's error for a driver or pool failure; None for any other."""
    if isinstance(error, (exc.IntegrityError, *INTEGRITY)):
        return Duplicate()
    if _conflict(error):
        return Conflict()
    if isinstance(error, (*OPERATIONAL, *INTERFACE)):
        return Unavailable()  # from a plain driver connection
    if isinstance(error, exc.DBAPIError) and (
            error.connection_invalidated or isinstance(error, exc.OperationalError)
            or isinstance(error, exc.InterfaceError)):
        return Unavailable()
    if isinstance(error, (OSError, exc.TimeoutError)):  # refused connection, pool wait
        return Unavailable()
    return None


def raise_translated(error: Exception, count: ErrorCounter | None = None) -> None:
    """Raise the product's error for `error` (from it), or `error` itself."""
    translated = translate(error)
    if translated is None:
        raise error
    if count is not None:
        count(error_kind(error, translated))
    if isinstance(translated, Unavailable) and not isinstance(translated, Conflict):
        log.warning('database unavailable: %s',  # the driver's words, one line
                    getattr(error, 'orig', None) or error)
    raise translated from error
