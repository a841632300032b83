import asyncio

from ..entities import messages
from ..entities.errors import Unavailable
from .ports import KeyValueStore, Pingable


class HealthService:
    def __init__(self, database: Pingable, store: KeyValueStore):
        self.database = database
        self.store = store

    async def check(self) -> dict[str, bool]:
        """Which dependencies answer; raises Unavailable naming the ones that do not."""
        names = ('database', 'cache')
        results = await asyncio.gather(self.database.ping(), self.store.ping(),
                                       return_exceptions=True)
        status = {name: not isinstance(r, BaseException) for name, r in zip(names, results)}
        down = [name for name, up in status.items() if not up]
        if down:
            raise Unavailable(messages.DEPENDENCIES_DOWN.format(names=', '.join(down)))
        return status
