"""Reading the request through a load schema: any malformed input becomes a 400
`invalid_param` naming the field, never a 500."""
import orjson
from marshmallow import Schema
from sanic import Request

from ..entities import messages
from ..entities.errors import InvalidParam


def json_body(request: Request, schema: Schema) -> dict:
    raw = request.body
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


def query(request: Request, schema: Schema) -> dict:
    return schema.load({key: values[0] for key, values in request.args.items()})
