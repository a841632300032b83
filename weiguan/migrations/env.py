"""Alembic's environment. The CLI (weiguan/dependencies/migrations.py) hands in an
open connection through `config.attributes['connection']`; the `alembic` command
line gets none and connects to the database the WG_* variables name."""
import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from weiguan.dependencies.migrations import context_options


def run_on(connection) -> None:
    context.configure(connection=connection, **context_options(connection))
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from weiguan.config import load_config
    engine = create_async_engine(load_config()['DB_URL'])
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit('offline (--sql) migrations are not supported: run them on a database')
connection = context.config.attributes.get('connection')
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_from_settings())
