"""Server-side sessions in the key-value store, with their two expiries, and for each
user the ids of their sessions (so that all but one can be ended).

A session's data carries `created` (login time) and `seen` (last use, written at
most once per refresh interval), both Unix times in seconds (to the millisecond).
It ends `expiry` seconds after login (absolute) or `idle_expiry` seconds after its
last recorded use, whichever comes first: every write gives the stored key that TTL
(in whole seconds, rounded up), and `load` checks the times as well (the TTL alone
would nearly do; the check is exact, and keeps a clock or a setting that changed
honest).

Ending a user's other sessions (password change) reads the user's index: a sorted
set of session ids kept beside the sessions, added to at login and removed from at
logout, so their keys are deleted at once. That alone cannot end a login that
checked the old password and finishes after the change; the credential version
each session carries (services/credentials.py, one more store read per
authenticated request) does."""
import math
import time
from typing import Callable

import orjson

PREFIX = 'session:'
USER_PREFIX = 'user_sessions:'


class SessionStore:
    def __init__(self, store, expiry: int, idle_expiry: int, refresh_interval: int,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.expiry = expiry
        self.idle_expiry = idle_expiry
        self.refresh_interval = refresh_interval
        self.clock = clock

    def _now(self) -> float:
        return round(self.clock(), 3)

    async def load(self, sid: str) -> dict | None:
        """The session's data; None when there is none or it has expired."""
        raw = await self.store.get(PREFIX + sid)
        if raw is None:
            return None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not self._alive(data, self._now()):
            return None
        return data

    def _alive(self, data: dict, now: float) -> bool:
        # Written without times (by an older version, or a test): the TTL bounds it.
        created, seen = data.get('created', now), data.get('seen', now)
        return now - created < self.expiry and now - seen < self.idle_expiry

    def due_refresh(self, data: dict) -> bool:
        """Whether the last-use time is old enough to be written again."""
        return self._now() - data.get('seen', 0) >= self.refresh_interval

    async def save(self, sid: str, data: dict, refresh: bool = False) -> None:
        """Store the data, stamped as used now (and created now, when new). A
        refresh writes only a session still stored: one ended meanwhile (logout,
        password change elsewhere) stays ended."""
        now = self._now()
        stored = {**data, 'seen': now}
        stored.setdefault('created', now)
        ttl = math.ceil(min(self.idle_expiry, stored['created'] + self.expiry - now))
        if ttl <= 0:
            await self.store.delete(PREFIX + sid)
            return
        write = self.store.set_if_present if refresh else self.store.set
        await write(PREFIX + sid, orjson.dumps(stored).decode(), ttl)

    async def delete(self, *sids: str) -> None:
        await self.store.delete(*(PREFIX + sid for sid in sids))

    async def track(self, user_id: int, sid: str) -> None:
        """Note the session as one of the user's (at login)."""
        await self.store.add_member(USER_PREFIX + str(user_id), sid, self.expiry)

    async def untrack(self, user_id: int, *sids: str) -> None:
        await self.store.remove_members(USER_PREFIX + str(user_id), *sids)

    async def end_others(self, user_id: int, keep: str | None) -> int:
        """End every session of the user except `keep`; how many were ended."""
        others = [sid for sid in await self.store.members(USER_PREFIX + str(user_id))
                  if sid != keep]
        if others:
            await self.delete(*others)
            await self.untrack(user_id, *others)
        return len(others)
