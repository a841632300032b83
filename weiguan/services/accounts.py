from dataclasses import dataclass
from typing import Any

from ..entities import messages
from ..entities.enums import VerifyChannel, VerifyCodeType
from ..entities.errors import Duplicate, Fail, NotFound
from ..entities.files import is_own
from .credentials import NO_CREDENTIALS, CredentialService, NoCredentials, credential_version
from .hydration import UserHydrator
from .ports import NO_SESSIONS, FileRepository, PasswordHasher, Row, Sessions, UserRepository
from .rate_limits import NO_LIMITS, NoLimits, RateLimiter
from .verify_codes import VerifyCodeService

DUPLICATE_MESSAGES = {'username': messages.USERNAME_TAKEN, 'mobile': messages.MOBILE_TAKEN,
                      'email': messages.EMAIL_TAKEN}


def _duplicate(error: Duplicate) -> Duplicate:
    return Duplicate(DUPLICATE_MESSAGES.get(error.field or '', messages.DUPLICATE))


@dataclass(frozen=True)
class Authenticated:
    """Who logged in, and the credential version of the row whose password was
    checked (for the session: see services/credentials.py)."""
    user_id: int
    credential: str


class AccountService:
    """`limits`, `sessions` and `credentials` may be left out (unit tests of other
    rules): their null objects limit nothing, end no session and publish no
    credential version."""

    def __init__(self, users: UserRepository, files: FileRepository,
                 hasher: PasswordHasher, verify_codes: VerifyCodeService,
                 hydrator: UserHydrator, limits: RateLimiter | NoLimits = NO_LIMITS,
                 sessions: Sessions = NO_SESSIONS,
                 credentials: CredentialService | NoCredentials = NO_CREDENTIALS):
        self.users = users
        self.files = files
        self.hasher = hasher
        self.verify_codes = verify_codes
        self.hydrator = hydrator
        self.limits = limits
        self.sessions = sessions
        self.credentials = credentials

    async def register(self, username: str, password: str,
                       client_ip: str | None = None) -> int:
        """The new user's id. Uniqueness is decided by the unique index, so two
        concurrent registrations of one name cannot both succeed."""
        await self.limits.register(client_ip)
        password_hash = await self.hasher.hash(password)
        try:
            user = await self.users.create(username, password_hash)
        except Duplicate as error:
            raise _duplicate(error) from error
        user_id: int = user['id']
        return user_id

    async def undo_register(self, user_id: int) -> None:
        """Remove a user just registered whose session could not be written: a 503
        then means nothing was created, and the retry starts afresh."""
        await self.users.delete(user_id)

    async def login(self, password: str, username: str | None = None,
                    mobile: str | None = None,
                    client_ip: str | None = None) -> Authenticated:
        """The user and the credential version that was verified, or Fail with one
        message whichever part was wrong.
        Each attempt is counted per account and per client IP before the password
        is checked (and uncounted when it was right); past the limits the password
        is not even checked (TooManyRequests)."""
        field, value = ('username', username) if username else ('mobile', mobile or '')
        user = await self.users.find_by(field, value)
        # One count per user whichever name was used; unknown names by name.
        account = str(user['id']) if user else f'{field}:{value.lower()}'
        reservation = await self.limits.reserve_login(account, client_ip)
        if not await self.hasher.verify(user['password'] if user else None, password) \
                or user is None:
            raise Fail(messages.BAD_CREDENTIALS)
        if user['disabled']:  # said only to who knows the password
            raise Fail(messages.ACCOUNT_DISABLED)
        if reservation:
            await self.limits.login_succeeded(reservation)
        return Authenticated(user['id'], credential_version(user))

    async def end_sessions(self, user_id: int, keep: str | None = None,
                           user: Row | None = None) -> int:
        """The one rule behind a password change, a reset and a disable, called after
        the change is committed: every session of the user from before is dead on its
        next request, whenever its login finished (its credential version no longer
        matches: services/credentials.py), and is deleted now. `keep` (the caller's
        own, on a password change) is kept; the caller gives it the new version
        (`credential`). `user` is the committed row, when the caller has it. How
        many sessions were deleted."""
        user = user or await self.users.get(user_id)
        if user is not None:
            await self.credentials.publish(user, renewing=keep)
        return await self.sessions.end_others(user_id, keep=keep)

    async def profile(self, user_id: int | None) -> Row | None:
        """The user as its owner sees it (None when there is no such user)."""
        if user_id is None:
            return None
        return await self.hydrator.user(user_id, viewer_id=user_id)

    async def modify(self, user_id: int, code: str | None = None,
                     keep_session: str | None = None, **changes: Any) -> Row | None:
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
            if not is_own(await self.files.get(changes['avatar_id']), user_id):
                raise Fail(messages.AVATAR_NOT_OWN)
        if changes.get('password') is not None:
            changes['password'] = await self.hasher.hash(changes['password'])
        if changes:
            try:
                user = await self.users.update(user_id, **changes)
            except Duplicate as error:
                raise _duplicate(error) from error
            if changes.get('password') is not None:
                await self.end_sessions(user_id, keep=keep_session, user=user)
        return await self.profile(user_id)

    async def credential(self, user_id: int) -> str | None:
        """The user's current credential version (for a session made now)."""
        return await self.credentials.current(user_id)

    # Operator actions (the admin CLI); the input is validated by the caller.

    async def create(self, username: str, password: str, mobile: str | None = None,
                     email: str | None = None) -> Row:
        """A user made by an operator (no verify codes); the registration's rules."""
        password_hash = await self.hasher.hash(password)
        contacts = {k: v for k, v in (('mobile', mobile), ('email', email)) if v}
        try:
            return await self.users.create(username, password_hash, **contacts)
        except Duplicate as error:
            raise _duplicate(error) from error

    async def _named(self, username: str) -> Row:
        user = await self.users.find_by('username', username)
        if user is None:
            raise NotFound(messages.USER_NOT_FOUND)
        return user

    async def reset_password(self, username: str, password: str) -> int:
        """Set a new password and end every session of the user; how many ended."""
        named = await self._named(username)
        user = await self.users.update(named['id'], password=await self.hasher.hash(password))
        return await self.end_sessions(named['id'], user=user)

    async def set_disabled(self, username: str, disabled: bool) -> int:
        """Disable (no login; every session ends at once) or enable the user; how
        many sessions ended. Either way the credential version changes, so the
        version cached while disabled never outlives the enable."""
        named = await self._named(username)
        user = await self.users.update(named['id'], disabled=disabled)
        return await self.end_sessions(named['id'], user=user)

    async def send_code(self, type: VerifyCodeType, channel: VerifyChannel,
                        target: str, client_ip: str | None = None) -> str | None:
        await self.limits.send_verify_code(client_ip)
        return await self.verify_codes.send(type, channel, target)
