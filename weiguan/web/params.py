"""Reading the request through a load schema: any malformed input becomes a 400
`invalid_param` naming the field, never a 500.

A JSON body must say so: Content-Type application/json (or a +json type). Anything
else (text/plain, a form) is refused with 400 `invalid_param` naming the type sent,
before anything is read or changed: those are the types a page on another site can
POST with the user's cookies without a CORS preflight, so refusing them keeps such a
page from acting as the user. (400, not 415: docs/api.md ties `invalid_param` to 400
and the app knows no other codes.) A request with no Content-Type and an empty body is
read as {}: it carries no field, and no endpoint acts without one (the schema names
what is missing; /account/modify changes nothing)."""
import re

import cachebox
import orjson
from marshmallow import Schema
from sanic import Request

from ..entities import messages
from ..entities.errors import InvalidParam


JSON_TYPE = re.compile(r'application/([a-z0-9.+-]+\+)?json', re.IGNORECASE)
SHOWN_TYPE_LENGTH = 64


def _require_json(request: Request, raw: bytes) -> None:
    declared = request.headers.get('content-type')
    if declared is None and not raw:
        return
    media_type = (declared or '').split(';', 1)[0].strip()
    if not JSON_TYPE.fullmatch(media_type):
        shown = ''.join(c for c in (declared or 'none') if c.isprintable())
        raise InvalidParam(messages.BODY_NOT_JSON_TYPE.format(
            type=shown[:SHOWN_TYPE_LENGTH] or 'none'))


def json_body(request: Request, schema: Schema) -> dict:
    raw = request.body
    _require_json(request, raw)
    if not raw or not raw.strip():
        data = {}
    else:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidParam(messages.BODY_NOT_JSON) from None
    if not isinstance(data, dict):
        raise InvalidParam(messages.BODY_NOT_OBJECT)
    return schema.load(data)


# Query strings kept loaded per route: a page or a hot post is asked for with the same
# query string again and again, and marshmallow's load of it was ~5 µs of each.
# (strings of at most QUERY_KEPT_LENGTH characters: long ones would make the memory
# kept the attacker's choice)
QUERY_LOADS_KEPT, QUERY_KEPT_LENGTH = 1024, 200


class QueryLoads:
    """A route's query string read through its load schema, each query string's
    result kept (the `kept` seen last) and handed out as a copy. A query schema is a
    pure function of the query string (no clock, no state), so a string loaded once
    loads the same again. A query that fails is not kept: it raises each time."""

    def __init__(self, schema: Schema, kept: int = QUERY_LOADS_KEPT):
        self.schema = schema
        self._loaded: cachebox.LRUCache = cachebox.LRUCache(kept)

    def __call__(self, request: Request) -> dict:
        string = request.query_string
        loaded = self._loaded.get(string)
        if loaded is None:
            loaded = self.schema.load({key: values[0] for key, values in request.args.items()})
            if len(string) <= QUERY_KEPT_LENGTH:
                self._loaded[string] = loaded
        return dict(loaded)
