from marshmallow import ValidationError

from ...entities.errors import InvalidParam
from ...entities.inputs import CreateUserCommand, ResetPasswordCommand, validation_message

create_command = CreateUserCommand()
reset_command = ResetPasswordCommand()


def _load(schema, **values) -> dict:
    try:
        return schema.load({k: v for k, v in values.items() if v is not None})
    except ValidationError as error:
        raise InvalidParam(validation_message(error)) from None  # the message says it


class UserCommand:
    """python -m weiguan.cli.app user <command>: accounts, for the operator"""

    def __init__(self, account_service):
        self.accounts = account_service

    async def create(self, username: str, password: str, mobile: str | None = None,
                     email: str | None = None) -> str:
        """Create an account (the registration's rules; no verify code for the
        mobile or email)."""
        data = _load(create_command, username=str(username), password=str(password),
                     mobile=mobile and str(mobile), email=email)
        user = await self.accounts.create(**data)
        return f'Created user {user["username"]} (id {user["id"]}).'

    async def reset_password(self, username: str, password: str) -> str:
        """Set a new password; every session of the user ends."""
        data = _load(reset_command, username=str(username), password=str(password))
        ended = await self.accounts.reset_password(**data)
        return f'Password of {data["username"]} reset; {ended} sessions ended.'

    async def disable(self, username: str) -> str:
        """Disable an account: it cannot log in, and every session of it ends now."""
        ended = await self.accounts.set_disabled(str(username), True)
        return f'User {username} disabled; {ended} sessions ended.'

    async def enable(self, username: str) -> str:
        """Enable a disabled account again."""
        await self.accounts.set_disabled(str(username), False)
        return f'User {username} enabled.'
