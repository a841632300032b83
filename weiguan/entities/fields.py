"""Field factories shared by the request schemas."""
from marshmallow import fields, validate

MAX_ID = 2**31 - 1  # ids are INT columns: a larger one names nothing and must not reach SQL
MAX_LIMIT = 100


def Id(*, query: bool = False, **kwargs) -> fields.Integer:
    """A positive id. JSON bodies must send a number; query strings are text."""
    return fields.Integer(strict=not query, validate=validate.Range(min=1, max=MAX_ID),
                          **kwargs)


def Text(max_length: int, *, min_length: int = 0, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=min_length, max=max_length), **kwargs)
