"""The schema's migrations (Alembic, weiguan/migrations) run on the app's database.

`bring_to_head` is what `model create_tables` and the start-up table creation do: an
empty database gets every revision; one made before migrations existed (tables, no
`alembic_version`) is compared with the first revision (or with the head, for one
made by `metadata.create_all`) and, when it matches, stamped as that revision and
upgraded; any other is refused with the differences, never altered by guess."""
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from ..entities import messages
from ..entities.errors import Fail
from .database import Database
from .tables import metadata

SCRIPT_LOCATION = str(Path(__file__).resolve().parent.parent / 'migrations')
VERSION_TABLE = 'alembic_version'


@dataclass(frozen=True)
class Revision:
    id: str
    down: str | None
    message: str


def _config(connection=None) -> Config:
    config = Config()
    config.set_main_option('script_location', SCRIPT_LOCATION)
    config.attributes['connection'] = connection
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _current(connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def context_options(connection) -> dict:
    """Alembic's options for this schema (env.py and the adoption check)."""
    return {'target_metadata': metadata, 'compare_type': True,
            # SQLite cannot ALTER most things: batch mode copies the table instead.
            'render_as_batch': connection.dialect.name == 'sqlite'}


def schema_differences(connection, target: sa.MetaData) -> list:
    """What autogenerate would change to make the database match `target`."""
    options = {**context_options(connection), 'target_metadata': target}
    return compare_metadata(MigrationContext.configure(connection, opts=options), target)


def _adoptable_revision(connection) -> str:
    """The revision a pre-migration database matches, or Fail naming the differences."""
    script = _script()
    first = script.get_base()
    candidates = [(first, script.get_revision(first).module.schema()),
                  (script.get_current_head(), metadata)]
    differences = []
    for revision, target in candidates:
        differences = schema_differences(connection, target)
        if not differences:
            return revision
    raise Fail(messages.SCHEMA_NOT_ADOPTABLE.format(
        differences='; '.join(map(str, differences[:5]))))


def _bring_to_head(connection) -> str:
    config = _config(connection)
    head = _script().get_current_head()
    before = _current(connection)
    tables = set(sa.inspect(connection).get_table_names()) - {VERSION_TABLE}
    if before is None and tables:
        adopted = _adoptable_revision(connection)
        command.stamp(config, adopted)
        command.upgrade(config, 'head')
        return messages.SCHEMA_ADOPTED.format(revision=adopted, head=head)
    if before == head:
        return messages.SCHEMA_AT_HEAD.format(head=head)
    command.upgrade(config, 'head')
    return messages.SCHEMA_UPGRADED.format(before=before or 'empty', head=head)


class SchemaMigrations:
    def __init__(self, database: Database):
        self.database = database

    async def _run(self, work):
        try:
            async with self.database.schema_change() as conn:
                return await conn.run_sync(work)
        except CommandError as error:  # an unknown revision, a downgrade past base...
            raise Fail(messages.MIGRATION_REFUSED.format(reason=error)) from error

    async def bring_to_head(self) -> str:
        """Whatever the database holds, bring it to the head; a line saying what was done."""
        return await self._run(_bring_to_head)

    async def upgrade(self, revision: str = 'head') -> tuple[str | None, str | None]:
        """(revision before, revision after)."""
        def work(connection):
            before = _current(connection)
            command.upgrade(_config(connection), revision)
            return before, _current(connection)
        return await self._run(work)

    async def downgrade(self, revision: str) -> tuple[str | None, str | None]:
        def work(connection):
            before = _current(connection)
            command.downgrade(_config(connection), revision)
            return before, _current(connection)
        return await self._run(work)

    async def current(self) -> str | None:
        return await self._run(_current)

    @staticmethod
    def head() -> str:
        return _script().get_current_head()

    @staticmethod
    def history() -> list[Revision]:
        """Every revision, newest first."""
        return [Revision(r.revision, r.down_revision, (r.doc or '').strip())
                for r in _script().walk_revisions()]
