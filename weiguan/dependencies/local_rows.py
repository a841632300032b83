"""Rows held in the process, beside the caches (caches.py): the immutable ones by id
(post bodies), and rows joined to their stat rows once per pair of objects."""
from typing import Any

import cachebox


class LocalRows:
    """Immutable rows by id in this process (post bodies): at most `max_entries`,
    least recently used evicted first. Holds no deleted state: the reader checks
    the mutable part (the stat row) in the database on every read."""

    def __init__(self, max_entries: int):
        self._rows: cachebox.LRUCache = cachebox.LRUCache(max_entries)

    def get(self, id: int) -> dict | None:
        return self._rows.get(id)

    def put(self, id: int, row: dict[str, Any]) -> None:
        self._rows[id] = row

    def discard(self, id: int) -> None:
        self._rows.pop(id, None)


# Joined rows kept per process and repository (~1 KB each, shared halves aside): as
# many as the presented views kept of them (services/hydration.py).
JOINED_ROWS = 4096


class JoinedRows:
    """`{**row, key: part}` for rows and parts that are handed out again and again
    (a decoded profile or post body, and its decoded stat row): made once per pair,
    for the `max_entries` ids joined last, so the joined row is the same object for
    as long as both halves are. Who presents it keeps the view made of it by that
    identity (services/hydration.py): a page's users and posts are presented and
    dumped once per change, not once per read. Never change a joined row."""

    def __init__(self, key: str, max_entries: int = JOINED_ROWS):
        self.key = key
        self._held: cachebox.LRUCache = cachebox.LRUCache(max_entries)  # id -> (row, part, joined)

    def __call__(self, id: int, row: dict, part: Any) -> dict:
        held = self._held.get(id)
        if held is not None and held[0] is row and held[1] is part:
            return held[2]
        joined = {**row, self.key: part}
        self._held[id] = (row, part, joined)
        return joined
