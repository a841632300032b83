from dataclasses import dataclass

from ..entities import messages
from ..entities.enums import VerifyChannel, VerifyCodeType
from ..entities.errors import Duplicate, Fail
from .credentials import credential_version

DUPLICATE_MESSAGES = {'username': messages.USERNAME_TAKEN, 'mobile': messages.MOBILE_TAKEN,
                      'email': messages.EMAIL_TAKEN}


def _duplicate(error: Duplicate) -> Duplicate:
    return Duplicate(DUPLICATE_MESSAGES.get(error.field, messages.DUPLICATE))


@dataclass(frozen=True)
class Authenticated:
    """Who logged in, and the credential version of the row whose password was
    checked (for the session: see services/credentials.py)."""
    user_id: int
    credential: str


class AccountService:
    """`limits` (a RateLimiter), `sessions` (the session store) and `credentials`
    (a CredentialService) are optional for unit tests: without them nothing is rate
    limited, no session is ended and no credential version is published."""

    def __init__(self, users, files, hasher, verify_codes, hydrator, limits=None,
                 sessions=None, credentials=None):
        self.users = users
        self.files = files
        self.hasher = hasher
        self.verify_codes = verify_codes
        self.hydrator = hydrator
        self.limits = limits
        self.sessions = sessions
        self.credentials = credentials

    async def register(self, username: str, password: str,
                       client_ip: str | None = None) -> dict:
        """The new user's id. Uniqueness is decided by the unique index, so two
        concurrent registrations of one name cannot both succeed."""
        if self.limits:
            await self.limits.register(client_ip)
        password_hash = await self.hasher.hash(password)
        try:
            user = await self.users.create(username, password_hash)
        except Duplicate as error:
            raise _duplicate(error) from error
        return user['id']

    async def undo_register(self, user_id: int) -> None:
        """Remove a user just registered whose session could not be written: a 503
        then means nothing was created, and the retry starts afresh."""
        await self.users.delete(user_id)

    async def login(self, password: str, username: str | None = None,
                    mobile: str | None = None,
                    client_ip: str | None = None) -> Authenticated:
        """The user and the credential version that was verified, or Fail with one message whichever part was wrong.
        Each attempt is counted per account and per client IP before the password
        is checked (and uncounted when it was right); past the limits the password
        is not even checked (TooManyRequests)."""
        field, value = ('username', username) if username else ('mobile', mobile)
        user = await self.users.find_by(field, value)
        # One count per user whichever name was used; unknown names by name.
        account = str(user['id']) if user else f'{field}:{value.lower()}'
        reservation = await self.limits.reserve_login(account, client_ip) \
            if self.limits else None
        if not await self.hasher.verify(user and user['password'], password):
            raise Fail(messages.BAD_CREDENTIALS)
        if reservation:
            await self.limits.login_succeeded(reservation)
        return Authenticated(user['id'], credential_version(user))

    async def profile(self, user_id: int | None) -> dict | None:
        """The user as its owner sees it (None when there is no such user)."""
        if user_id is None:
            return None
        return await self.hydrator.user(user_id, viewer_id=user_id)

    async def modify(self, user_id: int, code: str | None = None,
                     keep_session: str | None = None, **changes) -> dict:
        """Change the given fields. A new mobile or email needs a `modify` verify code
        sent to it; a new avatar must be the user's own image file. A new password
        ends every other session of the user (`keep_session`, the caller's, stays)."""
        for channel in (VerifyChannel.MOBILE, VerifyChannel.EMAIL):
            target = changes.get(channel.value)
            if target is None:
                continue
            if code is None:
                raise Fail(messages.VERIFY_CODE_NEEDED.format(field=channel.value))
            if not await self.verify_codes.check(VerifyCodeType.MODIFY, channel, target, code):
                raise Fail(messages.VERIFY_CODE_WRONG)
        if changes.get('avatar_id') is not None:
            avatar = await self.files.get(changes['avatar_id'])
            if (avatar is None or avatar['user_id'] != user_id
                    or not str(avatar['meta'].get('type', '')).startswith('image/')):
                raise Fail(messages.AVATAR_NOT_OWN)
        if changes.get('password') is not None:
            changes['password'] = await self.hasher.hash(changes['password'])
        if changes:
            try:
                user = await self.users.update(user_id, **changes)
            except Duplicate as error:
                raise _duplicate(error) from error
            if changes.get('password') is not None:
                await self.revoke_credentials(user_id, keep_session, user)
        return await self.profile(user_id)

    async def revoke_credentials(self, user_id: int, keep_session: str | None = None,
                                 user: dict | None = None) -> None:
        """Call after a committed change to what makes a login valid (a new
        password, a reset from the CLI, a disable): every session of the user from
        before is dead on its next request, whenever its login finished (its
        credential version no longer matches), and is deleted now. `keep_session`
        (the caller's own, on a password change) is kept; the caller then gives it
        the new version (`credential`)."""
        user = user or await self.users.get(user_id)
        if self.credentials and user is not None:
            await self.credentials.publish(user)
        if self.sessions:
            await self.sessions.end_others(user_id, keep=keep_session)

    async def credential(self, user_id: int) -> str | None:
        """The user's current credential version (for a session made now)."""
        return await self.credentials.current(user_id) if self.credentials else None

    async def send_code(self, type: VerifyCodeType, channel: VerifyChannel,
                        target: str, client_ip: str | None = None) -> str | None:
        if self.limits:
            await self.limits.send_verify_code(client_ip)
        return await self.verify_codes.send(type, channel, target)
