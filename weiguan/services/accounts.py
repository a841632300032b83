from ..entities import messages
from ..entities.enums import VerifyChannel, VerifyCodeType
from ..entities.errors import Duplicate, Fail

DUPLICATE_MESSAGES = {'username': messages.USERNAME_TAKEN, 'mobile': messages.MOBILE_TAKEN,
                      'email': messages.EMAIL_TAKEN}


def _duplicate(error: Duplicate) -> Duplicate:
    return Duplicate(DUPLICATE_MESSAGES.get(error.field, messages.DUPLICATE))


class AccountService:
    """`limits` (a RateLimiter) and `sessions` (the session store) are optional for
    unit tests: without them nothing is rate limited and no session is ended."""

    def __init__(self, users, files, hasher, verify_codes, hydrator, limits=None,
                 sessions=None):
        self.users = users
        self.files = files
        self.hasher = hasher
        self.verify_codes = verify_codes
        self.hydrator = hydrator
        self.limits = limits
        self.sessions = sessions

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

    async def login(self, password: str, username: str | None = None,
                    mobile: str | None = None, client_ip: str | None = None) -> int:
        """The user's id, or Fail with one message whichever part was wrong.
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
        return user['id']

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
                await self.users.update(user_id, **changes)
            except Duplicate as error:
                raise _duplicate(error) from error
        if changes.get('password') is not None and self.sessions:
            await self.sessions.end_others(user_id, keep=keep_session)
        return await self.profile(user_id)

    async def send_code(self, type: VerifyCodeType, channel: VerifyChannel,
                        target: str, client_ip: str | None = None) -> str | None:
        if self.limits:
            await self.limits.send_verify_code(client_ip)
        return await self.verify_codes.send(type, channel, target)
