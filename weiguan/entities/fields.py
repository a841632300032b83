"""Field factories shared by the request schemas.

Lengths are checked before anything else looks at a value: marshmallow runs a
field's own validators (the e-mail pattern) and deserializes every item of a list
before a Length validator gets its turn, which let a 90 MB e-mail or 5,000,000
imageIds hold the event loop for seconds."""
from typing import Any

from marshmallow import ValidationError, fields, validate

MAX_ID = 2**31 - 1  # ids are INT columns: a larger one names nothing and must not reach SQL
MAX_LIMIT = 100


def Id(*, query: bool = False, **kwargs: Any) -> fields.Integer:
    """A positive id. JSON bodies must send a number; query strings are text."""
    return fields.Integer(strict=not query, validate=validate.Range(min=1, max=MAX_ID),
                          **kwargs)


def Text(max_length: int, *, min_length: int = 0, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=min_length, max=max_length), **kwargs)


class _LengthFirst:
    """Refuses a value longer than `max_length` before it is validated or its items
    deserialized, with the message of validate.Length (kept in the field's
    validators too, where apispec reads it)."""

    def __init__(self, *args: Any, max_length: int, **kwargs: Any):
        self.length = validate.Length(max=max_length)
        kwargs['validate'] = [self.length, *_listed(kwargs.get('validate'))]
        super().__init__(*args, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        bound = self.length.max
        if bound is not None and isinstance(value, (str, list)) and len(value) > bound:
            raise ValidationError(self.length.message_max.format(max=bound))
        return super()._deserialize(value, attr, data, **kwargs)  # type: ignore[misc]


def _listed(validators: Any) -> list[Any]:
    if validators is None:
        return []
    return list(validators) if isinstance(validators, (list, tuple)) else [validators]


class BoundedEmail(_LengthFirst, fields.Email):
    pass


class BoundedList(_LengthFirst, fields.List):  # type: ignore[type-arg]
    pass
