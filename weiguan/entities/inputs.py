"""Load schemas: what each endpoint accepts. Unknown keys are ignored (the app sends
extras), everything named here is type- and range-checked."""
from typing import Any, Callable

from marshmallow import (EXCLUDE, Schema, ValidationError, fields, post_load, validate,
                         validates_schema)

from . import messages
from .enums import FileRegion, PostType, VerifyCodeType
from .files import MAX_POST_IMAGES
from .fields import MAX_LIMIT, BoundedEmail, BoundedList, Id, Text

Row = dict[str, Any]

# \A and \Z, not ^ and $: `$` also matches before a trailing newline.
USERNAME = validate.Regexp(r'\A[A-Za-z][A-Za-z0-9_]{2,19}\Z', error=messages.USERNAME_RULE)
MOBILE = validate.Regexp(r'\A\+?[0-9]{6,15}\Z', error=messages.MOBILE_RULE)


def _letter_and_digit(value: str) -> None:
    if not (any(c.isalpha() for c in value) and any(c.isdigit() for c in value)):
        raise ValidationError(messages.PASSWORD_RULE)


# The length apart, so that the OpenAPI document shows it (apispec reads Length).
PASSWORD: list[Callable[[Any], Any]] = [
    validate.Length(min=8, max=64, error=messages.PASSWORD_RULE), _letter_and_digit]
PASSWORD_DOC = {'description': messages.PASSWORD_RULE}


def validation_message(error: ValidationError) -> str:
    """'field: problem' for the first problem found, the field named as on the wire."""
    def first(messages_: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str]:
        if isinstance(messages_, dict):
            for key, value in messages_.items():
                return first(value, path + (str(key),))
        if isinstance(messages_, list) and messages_:
            if isinstance(messages_[0], (dict, list)):
                return first(messages_[0], path)
            return path, str(messages_[0])
        return path, str(messages_)
    path, text = first(error.messages)
    path = tuple(p for p in path if p != '_schema')
    name = '.'.join(path) or 'body'
    return text if text.startswith(name + ':') else f'{name}: {text}'


class RequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE


def _either(data: Row, first: str, second: str, wire_name: str | None = None) -> Any:
    """Some ids come under two names (`id`/`postId`...): take whichever was sent.
    A missing one is reported under `wire_name` (default: `first`)."""
    value = data.pop(first, None)
    other = data.pop(second, None)
    if value is None:
        value = other
    if value is None:
        raise ValidationError('Missing data for required field.', wire_name or first)
    return value


class RegisterRequest(RequestSchema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=PASSWORD, metadata=PASSWORD_DOC)


class LoginRequest(RequestSchema):
    """The registration rules: a name that cannot be registered cannot be logged into
    (MariaDB's collation would otherwise match look-alikes: full-width letters,
    accents, trailing spaces, NUL)."""
    username = fields.String(validate=USERNAME)
    mobile = fields.String(validate=MOBILE)
    password = Text(64, required=True)

    @validates_schema
    def _needs_account(self, data: Row, **kwargs: Any) -> None:
        if not data.get('username') and not data.get('mobile'):
            raise ValidationError(messages.LOGIN_NEEDS_ACCOUNT, 'username')


class ModifyRequest(RequestSchema):
    username = fields.String(validate=USERNAME)
    password = fields.String(validate=PASSWORD, metadata=PASSWORD_DOC)
    mobile = fields.String(validate=MOBILE)
    email = BoundedEmail(max_length=100)
    avatar_id = Id(data_key='avatarId', allow_none=True)
    intro = Text(200)
    code = fields.String(validate=validate.Regexp(r'\A[0-9]{6}\Z', error='6 digits'))


class SendMobileCodeRequest(RequestSchema):
    type = fields.Enum(VerifyCodeType, by_value=True, required=True)
    mobile = fields.String(required=True, validate=MOBILE)


class SendEmailCodeRequest(RequestSchema):
    type = fields.Enum(VerifyCodeType, by_value=True, required=True)
    email = BoundedEmail(required=True, max_length=100)


class ListQuery(RequestSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))


class UserListQuery(ListQuery):
    user_id = Id(query=True, data_key='userId', load_default=None)


class UserIdQuery(RequestSchema):
    id = Id(query=True)
    user_id = Id(query=True, data_key='userId')

    @post_load
    def _pick(self, data: Row, **kwargs: Any) -> Row:
        return {'user_id': _either(data, 'id', 'user_id')}


class FollowRequest(RequestSchema):
    following_id = Id(data_key='followingId')
    user_id = Id(data_key='userId')

    @post_load
    def _pick(self, data: Row, **kwargs: Any) -> Row:
        return {'following_id': _either(data, 'following_id', 'user_id', 'followingId')}


class PostIdQuery(RequestSchema):
    id = Id(query=True)
    post_id = Id(query=True, data_key='postId')

    @post_load
    def _pick(self, data: Row, **kwargs: Any) -> Row:
        return {'post_id': _either(data, 'id', 'post_id')}


class PostIdRequest(RequestSchema):
    id = Id()
    post_id = Id(data_key='postId')

    @post_load
    def _pick(self, data: Row, **kwargs: Any) -> Row:
        return {'post_id': _either(data, 'post_id', 'id', 'postId')}


class PublishRequest(RequestSchema):
    type = fields.Enum(PostType, by_value=True, required=True)
    text = Text(1000, load_default='', allow_none=True)
    image_ids = BoundedList(Id(), data_key='imageIds', load_default=list, allow_none=True,
                            max_length=MAX_POST_IMAGES)
    video_id = Id(data_key='videoId', load_default=None, allow_none=True)

    @post_load
    def _normalize(self, data: Row, **kwargs: Any) -> Row:
        data['text'] = (data.get('text') or '').strip()
        data['image_ids'] = data.get('image_ids') or []
        return data


class TimelineQuery(RequestSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    before_id = Id(query=True, data_key='beforeId', load_default=None)
    after_id = Id(query=True, data_key='afterId', load_default=None)

    @validates_schema
    def _one_cursor(self, data: Row, **kwargs: Any) -> None:
        if data.get('before_id') and data.get('after_id'):
            raise ValidationError(messages.BEFORE_AND_AFTER, 'beforeId')


class FileIdQuery(RequestSchema):
    id = Id(query=True, required=True)


SAFE_PREFIX = validate.Regexp(r'\A[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\Z',
                              error=messages.SAFE_PREFIX_RULE)


def _safe_prefix_or_empty(value: str) -> None:
    if value:
        SAFE_PREFIX(value)


class UploadForm(RequestSchema):
    """The multipart fields beside the files. `bucket` and `path` become folders under
    the upload directory: no dots, no backslashes, no leading or doubled slashes."""
    region = fields.String(load_default=FileRegion.LOCAL.value,
                           validate=validate.OneOf([r.value for r in FileRegion]))
    bucket = fields.String(load_default='default',
                           validate=[validate.Length(min=1, max=32), SAFE_PREFIX])
    path = fields.String(load_default='',
                         validate=[validate.Length(max=100), _safe_prefix_or_empty])


class ProcessQuery(RequestSchema):
    """`process` of a file download; the storage service knows the valid values."""
    process = fields.String(load_default=None, validate=validate.Length(max=32))


class CreateUserCommand(RegisterRequest):
    """`user create` (admin CLI): the registration's rules, plus the contacts."""
    mobile = fields.String(validate=MOBILE, allow_none=True)
    email = fields.Email(validate=validate.Length(max=100), allow_none=True)


class ResetPasswordCommand(RequestSchema):
    username = fields.String(required=True)
    password = fields.String(required=True, validate=PASSWORD)
