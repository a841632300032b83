"""The engine and the one place that turns driver failures into the product's errors:
a lost or refused connection becomes Unavailable (503), a unique-index violation
becomes Duplicate. Repositories run every statement through `Database`."""
import asyncio
import functools
import logging
import random
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator, Callable

import aiomysql
import pymysql
import sqlalchemy as sa
from pymysql.constants import FIELD_TYPE
from pymysql.converters import conversions, convert_datetime
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..entities.errors import Duplicate, Unavailable
from .prepared import Prepared
from .tables import UTCDateTime

log = logging.getLogger(__name__)


def create_engine(url: str, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    if url.startswith('sqlite'):
        engine = create_async_engine(url, connect_args={'timeout': 30})

        @sa.event.listens_for(engine.sync_engine, 'connect')
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute('PRAGMA journal_mode=WAL')  # readers do not wait for writers
            cursor.execute('PRAGMA synchronous=NORMAL')
            cursor.close()
        return engine
    # No pre-ping (a round trip per checkout): a connection found dead fails its
    # request with 503 and makes SQLAlchemy discard every older pooled connection.
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                               pool_recycle=3600, connect_args={'connect_timeout': 5})


def _utc_datetime(text: str) -> datetime | str:
    """A DATETIME value as UTCDateTime reads it (aware, UTC), parsed in C: pymysql's
    own parser and then the type's processor cost ~2.4 µs a value, this ~0.8, and a
    timeline page holds ~130 of them."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except ValueError:
        return convert_datetime(text)  # what pymysql gives (a zero date stays text)


# Types whose values the read pool's driver already gives in their final form.
DRIVER_CONVERTED = (UTCDateTime,)


async def create_driver_pool(engine: AsyncEngine, size: int = 20, autocommit: bool = True,
                             cursor: type = aiomysql.Cursor) -> aiomysql.Pool | None:
    """MySQL only: aiomysql's own pool for prepared statements (prepared.py).
    Autocommit for reads, which then cost one round trip (no BEGIN, no ROLLBACK)
    and see the latest commits; without, for prepared transactions. Connection
    arguments are the engine's, from its URL; `cursor` is the class of the cursors
    (tracing gives one that spans each statement)."""
    if engine.dialect.name != 'mysql':
        return None
    _, params = engine.dialect.create_connect_args(engine.url)
    conv = {**conversions, FIELD_TYPE.DATETIME: _utc_datetime}
    return await aiomysql.create_pool(minsize=0, maxsize=size, autocommit=autocommit,
                                      pool_recycle=3600, connect_timeout=5, conv=conv,
                                      cursorclass=cursor, **params)


# Errors after which a driver connection may be mid-query: never reused.
CONNECTION_BROKEN = (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError,
                     asyncio.CancelledError)


# InnoDB's deadlock (its victim's transaction was rolled back) and lock wait timeout:
# the server refused the transaction, the connection is fine, a retry may succeed.
CONFLICT_CODES = (1213, 1205)
CONFLICT_ATTEMPTS = 4
CONFLICT_BACKOFF = 0.02  # seconds, times the attempt number, jittered


def _conflict(error: BaseException) -> bool:
    cause = getattr(error, 'orig', None) or error
    return (isinstance(cause, pymysql.err.OperationalError) and bool(cause.args)
            and cause.args[0] in CONFLICT_CODES)


def _intact(error: BaseException) -> bool:
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


class EngineStatements:
    """Prepared statements run on a SQLAlchemy connection (SQLite, or inside an
    engine transaction)."""

    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def run(self, prepared: Prepared, **params) -> int:
        return (await self.conn.execute(prepared.statement, params)).rowcount

    async def fetch_all(self, prepared: Prepared, **params) -> list[dict]:
        return prepared.shape.dicts(await self.conn.execute(prepared.statement, params))


class DriverStatements:
    """Prepared statements run on a driver connection."""

    def __init__(self, conn: aiomysql.Connection, dialect):
        self.conn = conn
        self.dialect = dialect

    async def run(self, prepared: Prepared, **params) -> int:
        sql, args = prepared.plan(self.dialect, DRIVER_CONVERTED).arguments(params)
        cursor = await self.conn.cursor()
        await cursor.execute(sql, args)
        return cursor.rowcount


Statements = EngineStatements | DriverStatements


def insert_ignore(table: sa.Table) -> sa.Insert:
    """INSERT that silently skips a row whose unique key exists (MySQL IGNORE,
    SQLite OR IGNORE): one statement for both dialects, so it can be prepared."""
    return (table.insert().prefix_with('IGNORE', dialect='mysql')
            .prefix_with('OR IGNORE', dialect='sqlite'))


ErrorCounter = Callable[[str], None]  # called with the kind of each database failure


def error_kind(error: Exception, translated: Exception) -> str:
    """duplicate, timeout (a deadline or a pool wait) or connection (lost, refused)."""
    return ('duplicate' if isinstance(translated, Duplicate) else 'timeout'
            if isinstance(error, (TimeoutError, exc.TimeoutError)) else 'connection')


def _translate(error: Exception) -> Exception | None:
    """The product's error for a driver or pool failure; None for any other."""
    if isinstance(error, (exc.IntegrityError, pymysql.err.IntegrityError)):
        return Duplicate()
    if _conflict(error):
        return Conflict()
    if isinstance(error, (pymysql.err.OperationalError, pymysql.err.InterfaceError)):
        return Unavailable()  # from the read pool's plain driver connections
    if isinstance(error, exc.DBAPIError) and (
            error.connection_invalidated or isinstance(error, exc.OperationalError)
            or isinstance(error, exc.InterfaceError)):
        return Unavailable()
    if isinstance(error, (OSError, exc.TimeoutError)):  # refused connection, pool wait
        return Unavailable()
    return None


def _raise_translated(error: Exception, count: ErrorCounter | None = None) -> None:
    """Raise the product's error for `error` (from it), or `error` itself."""
    translated = _translate(error)
    if translated is None:
        raise error
    if count is not None:
        count(error_kind(error, translated))
    if isinstance(translated, Unavailable) and not isinstance(translated, Conflict):
        log.warning('database unavailable: %s',  # the driver's words, one line
                    getattr(error, 'orig', None) or error)
    raise translated from error


def _drop(held: list[AsyncConnection]) -> None:
    """Close the socket under the driver's connection (its deadline passed): what
    waits on it fails at once, as on a lost connection."""
    for conn in held:
        try:
            conn.sync_connection.connection.driver_connection.close()
        except Exception as error:  # already closed or invalidated: nothing to drop
            log.debug('dropping a connection: %s', error)


class Database:
    """Transactions and connections on the engine, with errors translated."""

    def __init__(self, engine: AsyncEngine, read_pool: aiomysql.Pool | None = None,
                 write_pool: aiomysql.Pool | None = None, timeout: float | None = None,
                 count_error: ErrorCounter | None = None):
        self.engine = engine
        self.count_error = count_error
        self.read_pool = read_pool
        self.write_pool = write_pool
        self.dialect = engine.dialect.name  # 'mysql' or 'sqlite'
        # The deadline of one block, connecting included: aiomysql has no read timeout,
        # so a partitioned or frozen server would hold a request forever. A local
        # SQLite file cannot be partitioned away; its lock waits have their own timeout.
        self.timeout = timeout if timeout and self.dialect != 'sqlite' else None

    @asynccontextmanager
    async def _translated(self, opener, deadline: bool = True
                          ) -> AsyncIterator[AsyncConnection]:
        try:
            if self.timeout is None or not deadline:
                async with opener() as conn:
                    yield conn
            else:
                # At the deadline the task is cancelled (TimeoutError, an OSError) and
                # the connection's socket closed: SQLAlchemy shields the ROLLBACK it
                # sends on the way out, which would otherwise wait for the dead server.
                # The pool then discards the connection as lost.
                loop = asyncio.get_running_loop()
                deadline, held = loop.time() + self.timeout, []
                drop = loop.call_at(deadline, _drop, held)
                try:
                    async with asyncio.timeout_at(deadline):
                        async with opener() as conn:
                            held.append(conn)
                            yield conn
                finally:
                    drop.cancel()
        except Exception as error:
            _raise_translated(error, self.count_error)

    def transaction(self):
        """One transaction: committed when the block ends, rolled back on any error."""
        return self._translated(self.engine.begin)

    def schema_change(self):
        """A transaction without the deadline: migrations (DDL on a large table can
        take minutes) and nothing else. On MySQL each DDL statement commits itself."""
        return self._translated(self.engine.begin, deadline=False)

    def connection(self):
        """A connection for reads that are not prepared (batch jobs, tools)."""
        return self._translated(self.engine.connect)

    async def fetch_all(self, prepared: Prepared, **params) -> list[dict]:
        """The rows of a prepared read, as dicts keyed by its selected columns."""
        if self.read_pool is None:
            async with self.connection() as conn:
                return await EngineStatements(conn).fetch_all(prepared, **params)
        plan = prepared.plan(self.engine.dialect, DRIVER_CONVERTED)
        sql, args = plan.arguments(params)
        async with self._driver(self.read_pool) as conn:
            cursor = await conn.cursor()
            await cursor.execute(sql, args)
            rows = await cursor.fetchall()
        return prepared.shape.dicts(rows, plan.result_processors)

    async def fetch_one(self, prepared: Prepared, **params) -> dict | None:
        rows = await self.fetch_all(prepared, **params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def prepared_transaction(self) -> AsyncIterator['Statements']:
        """One transaction of prepared statements (`run` gives each one's row count):
        committed when the block ends, rolled back on any error. On MySQL it runs on
        the driver, like fetch_all; a like costs a third less CPU that way."""
        if self.write_pool is None:
            async with self.transaction() as conn:
                yield EngineStatements(conn)
            return
        async with self._driver(self.write_pool, transaction=True) as conn:
            yield DriverStatements(conn, self.engine.dialect)

    @asynccontextmanager
    async def _driver(self, pool: aiomysql.Pool, transaction: bool = False):
        """A connection of one of the driver pools for the block, within the
        deadline, with errors translated as for the engine. A connection that may
        be mid-query (lost, cancelled) is closed, never reused."""
        try:
            async with asyncio.timeout(self.timeout):
                conn = await pool.acquire()
                try:
                    yield conn
                    if transaction:
                        await conn.commit()
                except BaseException as error:
                    if _intact(error):
                        if transaction:
                            await conn.rollback()
                    else:
                        conn.close()
                    raise
                finally:
                    pool.release(conn)
        except Exception as error:
            translated = _translate(error)
            if isinstance(translated, Unavailable) and not isinstance(translated, Conflict):
                await pool.clear()  # its idle peers likely went the same way
            _raise_translated(error, self.count_error)

    async def ping(self) -> None:
        async with self.transaction() as conn:
            await conn.execute(sa.text('SELECT 1'))

    def connections_in_use(self) -> dict[str, int]:
        """Connections checked out now, per pool (engine, and the driver pools)."""
        checked_out = getattr(self.engine.sync_engine.pool, 'checkedout', lambda: 0)
        pools = (('driver_read', self.read_pool), ('driver_write', self.write_pool))
        return {'engine': checked_out(), **{name: pool.size - pool.freesize
                                            for name, pool in pools if pool is not None}}

    async def dispose(self) -> None:
        await self.engine.dispose()
        for pool in (self.read_pool, self.write_pool):
            if pool is not None:
                pool.close()
                await pool.wait_closed()
