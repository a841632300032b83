class ModelCommand:
    """python -m weiguan.cli.app model <command>"""

    def __init__(self, database):
        self.database = database

    async def create_tables(self) -> str:
        """Create the tables that are missing (safe to run again)."""
        created = await self.database.create_tables()
        if not created:
            return 'All tables exist; nothing created.'
        return 'Created tables: ' + ', '.join(created)
