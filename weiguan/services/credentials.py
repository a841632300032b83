"""The credential version of a user: what a session must still match to be alive.

A session records, at login, the version of the user row whose password was
actually verified; each authenticated request compares it with the user's current
version. So a session from before a password change (or a disable, or a reset from
the CLI) is dead on its next request, whenever its login finished: a login that
checked the old password while the change went through carries the old version.
(Ending "the other sessions" at the moment of the change cannot catch a login that
ends later.)

The version is a fingerprint of the credential fields of the user row (the password
hash, and the `disabled` state where the row has one), so it needs no column of its
own and can always be recomputed from the database. The current version is read
through the key-value store (Redis, or the process's memory): one GET per
authenticated request, not a SQL query. A missing entry is filled from the database
with SET NX, so a fill racing a change never overwrites the newer version; a change
writes its version unconditionally after its commit.

The session that changes its own password stays logged in, but it is written with the
new version only after the change is published: a read of that session in between (a
WebSocket's periodic check, a second request on the same cookie) would find it stale
and delete it, logging out the very user who changed the password. So the change
first records that this session is renewing to the new version (RENEWING, a short
TTL), and a session whose version is not current is still alive if it is the one
renewing to the current version."""
import hashlib

from .ports import KeyValueStore, Row, UserRepository

CREDENTIAL_FIELDS = ('password', 'disabled')  # a change to any of them ends sessions
PREFIX = 'credential:'
RENEWING = 'credential_renewing:'  # + a session id: the version it is renewing to
RENEW_TTL = 60  # seconds: the changing request writes its session well before
CACHE_TTL = 24 * 3600  # refilled from the database after this; bounds a lost write


def credential_version(user: Row) -> str:
    material = '\0'.join(str(user.get(field)) for field in CREDENTIAL_FIELDS)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


class CredentialService:
    def __init__(self, store: KeyValueStore, users: UserRepository):
        self.store = store
        self.users = users

    async def current(self, user_id: int) -> str | None:
        """The user's current version (None: no such user)."""
        key = PREFIX + str(user_id)
        cached = await self.store.get(key)
        if cached is not None:
            return cached
        user = await self.users.get(user_id)
        if user is None:
            return None
        version = credential_version(user)
        if not await self.store.set_if_absent(key, version, CACHE_TTL):
            return await self.store.get(key) or version  # a change came first
        return version

    async def matches(self, current: str | None, version: str | None,
                      session_id: str | None = None) -> bool:
        """Whether a session holding `version` is alive, `current` being its user's
        version as `current()` read it (web/sessions.py reads it beside the session,
        first: a lost store is a 503). `session_id`: the session, which may be the
        one renewing to the current version."""
        if version is not None and current == version:
            return True
        return session_id is not None and current is not None and \
            await self.store.get(RENEWING + session_id) == current

    async def publish(self, user: Row, renewing: str | None = None) -> str:
        """The user row changed its credentials (committed): its version is now the
        only valid one, but for the session `renewing` to it (the caller's, which
        writes it next). Returns it."""
        version = credential_version(user)
        if renewing is not None:
            await self.store.set(RENEWING + renewing, version, RENEW_TTL)
        await self.store.set(PREFIX + str(user['id']), version, CACHE_TTL)
        return version


class NoCredentials:
    """No credential versions (unit tests of other rules): sessions carry none."""

    async def current(self, user_id: int) -> str | None:
        return None

    async def publish(self, user: Row, renewing: str | None = None) -> str:
        return credential_version(user)


NO_CREDENTIALS = NoCredentials()  # stateless: one serves every service
