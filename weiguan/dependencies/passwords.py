"""argon2id password hashing. Hashing costs tens of milliseconds of CPU on purpose,
so it runs in a thread and the event loop keeps serving other requests."""
import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._dummy = self._hasher.hash('timing equalizer')

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password. With no hash (unknown account) a dummy is checked
        so that response time does not tell which accounts exist."""
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy, password) \
                    and password_hash is not None
            except (VerificationError, InvalidHashError):
                return False
        return await asyncio.to_thread(check)
