"""The engine and the one place that turns driver failures into the product's errors:
a lost or refused connection becomes Unavailable (503), a unique-index violation
becomes Duplicate. Repositories run every statement through `Database`."""
import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..entities.errors import Duplicate, Unavailable
from .tables import metadata

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


def create_read_engine(url: str, pool_size: int = 10,
                       max_overflow: int = 10) -> AsyncEngine | None:
    """MySQL only: an autocommit pool for single-statement reads, which then cost one
    round trip (no BEGIN, no ROLLBACK when the connection goes back to the pool), and
    each read sees the latest commits rather than a transaction's old snapshot."""
    if url.startswith('sqlite'):
        return None
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                               pool_recycle=3600, isolation_level='AUTOCOMMIT',
                               pool_reset_on_return=None,
                               connect_args={'connect_timeout': 5})


def _translate(error: Exception) -> Exception | None:
    if isinstance(error, exc.IntegrityError):
        return Duplicate()
    if isinstance(error, exc.DBAPIError) and (
            error.connection_invalidated or isinstance(error, exc.OperationalError)
            or isinstance(error, exc.InterfaceError)):
        return Unavailable()
    if isinstance(error, (OSError, exc.TimeoutError)):  # refused connection, pool wait
        return Unavailable()
    return None


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

    def __init__(self, engine: AsyncEngine, read_engine: AsyncEngine | None = None,
                 timeout: float | None = None):
        self.engine = engine
        self.read_engine = read_engine or engine
        self.dialect = engine.dialect.name  # 'mysql' or 'sqlite'
        # The deadline of one block, connecting included: aiomysql has no read timeout,
        # so a partitioned or frozen server would hold a request forever. A local
        # SQLite file cannot be partitioned away; its lock waits have their own timeout.
        self.timeout = timeout if timeout and self.dialect != 'sqlite' else None

    @asynccontextmanager
    async def _translated(self, opener) -> AsyncIterator[AsyncConnection]:
        try:
            if self.timeout is None:
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
            translated = _translate(error)
            if translated is None:
                raise
            if isinstance(translated, Unavailable):
                log.warning('database unavailable: %s',  # the driver's words, one line
                            getattr(error, 'orig', None) or error)
            raise translated from error

    def transaction(self):
        """One transaction: committed when the block ends, rolled back on any error."""
        return self._translated(self.engine.begin)

    def connection(self):
        """A connection for reads that need no transaction."""
        return self._translated(self.read_engine.connect)

    async def ping(self) -> None:
        async with self.transaction() as conn:
            await conn.execute(sa.text('SELECT 1'))

    def insert(self, table: sa.Table):
        """An INSERT that can take an upsert clause on this dialect."""
        return (mysql.insert if self.dialect == 'mysql' else sqlite.insert)(table)

    def insert_ignore(self, table: sa.Table, conflict: list[str]):
        """INSERT that silently skips a row whose unique key exists."""
        if self.dialect == 'mysql':
            return mysql.insert(table).prefix_with('IGNORE')
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)

    async def create_tables(self) -> list[str]:
        """Create the missing tables; return their names."""
        async with self.transaction() as conn:
            existing = set(await conn.run_sync(
                lambda sync: sa.inspect(sync).get_table_names()))
            missing = [t for t in metadata.sorted_tables if t.name not in existing]
            await conn.run_sync(metadata.create_all, tables=missing)
        return [t.name for t in missing]

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
