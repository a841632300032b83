class ModelCommand:
    """python -m weiguan.cli.app model <command>: the schema and its migrations"""

    def __init__(self, migrations):
        self.migrations = migrations

    async def create_tables(self) -> str:
        """Bring any database to the newest schema: an empty one gets every table, one
        made before migrations existed is checked and adopted, then upgraded (safe to
        run again)."""
        return await self.migrations.bring_to_head()

    async def upgrade(self, revision: str = 'head') -> str:
        """Apply the migrations up to --revision (default: head)."""
        before, after = await self.migrations.upgrade(str(revision))
        if before == after:
            return f'Already at {after or "base"}; nothing to do.'
        return f'Upgraded from {before or "base"} to {after}.'

    async def downgrade(self, revision: str) -> str:
        """Undo the migrations down to --revision (a revision id, or base: no tables)."""
        before, after = await self.migrations.downgrade(str(revision))
        if before == after:
            return f'Already at {after or "base"}; nothing to do.'
        return f'Downgraded from {before or "base"} to {after or "base"}.'

    async def current(self) -> str:
        """The revision the database is at (base: none applied)."""
        current = await self.migrations.current()
        head = self.migrations.head()
        state = 'head' if current == head else f'head is {head}'
        return f'{current or "base"} ({state})'

    async def history(self) -> str:
        """Every revision, newest first."""
        return '\n'.join(f'{r.down or "base"} -> {r.id}: {r.message.splitlines()[0]}'
                         for r in self.migrations.history())
