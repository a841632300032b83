"""The OpenAPI 3 document of the app, generated with apispec from the marshmallow
schemas the handlers use, so that it cannot drift from them.

Each handler says what it reads and answers with `@documented(...)` (web/contract.py):
the load schema, which the same decorator applies to the request, and the dump
schemas it puts in the envelope's `data`. Whether it needs a login is read from the
login_required guard itself. The document is built from the app's routes;
tests/e2e/test_openapi.py checks that every route is documented, and
tests/e2e/test_openapi_fuzz.py that the answers match the document."""
import re
from typing import Any, Mapping

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import get_fields, resolve_schema_instance
from marshmallow import Schema, fields
from sanic import Sanic

from ..entities.inputs import RequestSchema
from .contract import ERRORS, Doc, Nullable, documented, nullable, route_handler
from .envelope import STATUS

# Where handlers and the body limits import them from.
__all__ = ['build_document', 'document', 'documented', 'nullable', 'route_handler']

OPENAPI_VERSION = '3.0.3'
API_VERSION = '1.0.0'
SECURITY_SCHEME = 'session'
NOT_OPERATIONS = {'OPTIONS'}  # CORS preflights (web/security.py), not API operations
ROUTE_PARAM = re.compile(r'<(\w+)(:[^>]*)?>')  # Sanic's <name:type>
def _field(value: Any) -> fields.Field:
    allow_none = isinstance(value, Nullable)
    value = value.value if allow_none else value
    if isinstance(value, fields.Field):
        return value
    if isinstance(value, Schema):
        return fields.Nested(type(value), many=value.many, allow_none=allow_none)
    kinds = {int: fields.Integer, str: fields.String, bool: fields.Boolean}
    return kinds[value](allow_none=allow_none)


def _schema_name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix('View')


class _Converter(OpenAPIConverter):
    """Dump shapes list every key as required: the views always write them all,
    except viewer-dependent ones (docs/api.md), marked `viewer_dependent` in views.py."""

    def schema2jsonschema(self, schema):
        json_schema = super().schema2jsonschema(schema)
        instance = resolve_schema_instance(schema)
        if not isinstance(instance, RequestSchema):
            required = sorted(f.data_key or name for name, f in get_fields(instance).items()
                              if not f.metadata.get('viewer_dependent'))
            json_schema.pop('required', None)
            if required:
                json_schema['required'] = required
        return json_schema


class _Plugin(MarshmallowPlugin):
    Converter = _Converter


def _nullable_ref(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """apispec writes a nullable nested schema as anyOf [any object, $ref], which
    accepts any object; allOf [$ref] + nullable keeps the shape checkable."""
    options = ret.get('anyOf')
    if field.allow_none and options and len(options) == 2 and '$ref' in options[1]:
        del ret['anyOf']
        return {'allOf': [options[1]], 'nullable': True}
    return {}


def _enum_type(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """apispec gives an Enum field its values but no type."""
    if isinstance(field, fields.Enum) and 'type' not in ret:
        strings = all(isinstance(value, str) for value in ret.get('enum', ()))
        return {'type': 'string' if strings else 'integer'}
    return {}


def _ecma_pattern(self, field: fields.Field, ret: dict, **kwargs) -> dict:
    """OpenAPI patterns are ECMA 262, which has no \\A and \\Z; there `^` and `$`
    mean the same (no match before a trailing newline)."""
    pattern = ret.get('pattern')
    if not pattern:
        return {}
    if pattern.startswith('\\A'):
        pattern = '^' + pattern[2:]
    if pattern.endswith('\\Z'):
        pattern = pattern[:-2] + '$'
    return {'pattern': pattern}


def _envelope(code: dict, data: dict, message: str = '') -> dict:
    message_schema = {'type': 'string', 'description': message} if message else \
        {'type': 'string'}
    return {'type': 'object', 'required': ['code', 'message', 'data'],
            'additionalProperties': False,
            'properties': {'code': code, 'message': message_schema, 'data': data}}


def _json(schema: dict, description: str, **extra) -> dict:
    return {'description': description, 'content': {'application/json': {'schema': schema}},
            **extra}


class _Builder:
    def __init__(self, app: Sanic):
        self.app = app
        self.config = app.ctx.config
        self.plugin = _Plugin(schema_name_resolver=_schema_name)
        self.spec = APISpec(
            title='weiguan', version=API_VERSION, openapi_version=OPENAPI_VERSION,
            plugins=[self.plugin], info={'description': _INTRO})
        converter = self.plugin.converter
        assert converter is not None  # set by APISpec's init of the plugin
        self.converter = converter
        converter.add_attribute_function(_nullable_ref)
        self.converter.add_attribute_function(_enum_type)
        self.converter.add_attribute_function(_ecma_pattern)
        self.spec.components.security_scheme(SECURITY_SCHEME, {
            'type': 'apiKey', 'in': 'cookie', 'name': self.config['SESSION_COOKIE_NAME'],
            'description': 'The session cookie set by /account/register and '
                           '/account/login; /account/logout ends the session.'})
        self.spec.components.schema('Code', {
            'type': 'string', 'enum': list(STATUS),
            'description': 'Stable machine string; each maps to one HTTP status.'})
        for status, (name, code, description) in ERRORS.items():
            extra = {}
            if status == 429:
                extra['headers'] = {'Retry-After': {
                    'description': 'Seconds to wait.', 'required': True,
                    'schema': {'type': 'integer', 'minimum': 1}}}
            self.spec.components.response(name, _json(_envelope(
                {'type': 'string', 'enum': [code]}, {'type': 'object'},
                'A human sentence.'), description, **extra))

    def data_schema(self, data: Mapping[str, Any]) -> dict:
        shape = Schema.from_dict({name: _field(value) for name, value in data.items()})
        return self.converter.schema2jsonschema(shape())

    def ok_response(self, doc: Doc) -> dict:
        success = _envelope({'type': 'string', 'enum': ['ok']}, self.data_schema(doc.data))
        if not doc.refusals:
            return _json(success, 'ok')
        refused = _envelope({'type': 'string', 'enum': list(doc.refusals)},
                            {'type': 'object', 'maxProperties': 0},
                            'Why the request was refused.')
        return _json({'oneOf': [success, refused]},
                     f"ok, or refused by a business rule ({', '.join(doc.refusals)})")

    def operation(self, route, path: str, method: str, doc: Doc) -> dict:
        needs_login = getattr(route_handler(route), 'needs_login', False)
        no_session = getattr(route.ctx, 'no_session', False)
        operation: dict = {'summary': doc.summary, 'tags': [route.path.split('/')[0]],
                           'operationId': route.name.split('.', 1)[-1].replace('.', '_'),
                           'parameters': self.path_parameters(path, doc)}
        if doc.description:
            operation['description'] = doc.description
        if needs_login:
            operation['security'] = [{SECURITY_SCHEME: []}]
        elif no_session:
            operation['security'] = []
        else:  # the session is read when there is one
            operation['security'] = [{}, {SECURITY_SCHEME: []}]
        if doc.query is not None:
            operation['parameters'] += self.query_parameters(doc)
        operation['parameters'] += doc.parameters
        if doc.body is not None:  # json_body() reads no body at all as {}
            operation['requestBody'] = {'required': False, 'content': {
                'application/json': {'schema': self.body_schema(doc)}},
                'description': 'A JSON object; no body is read as `{}`.'}
        if doc.form is not None:
            operation['requestBody'] = {'required': True, 'content': {
                'multipart/form-data': {'schema': self.form_schema(doc.form)}}}
        statuses = {500, 503, *doc.errors}
        if doc.loads is not None:
            statuses.add(400)
        if needs_login:
            statuses.add(401)
        if method == 'post':
            statuses.add(413)  # REQUEST_MAX_SIZE
        responses = dict(doc.responses) if doc.responses else {'200': self.ok_response(doc)}
        for status in sorted(statuses):
            responses[str(status)] = self.spec.components.get_ref('response', ERRORS[status][0])
        operation['responses'] = responses
        if not operation['parameters']:
            del operation['parameters']
        return operation

    def path_parameters(self, path: str, doc: Doc) -> list[dict]:
        described = {p['name'] for p in doc.parameters if p['in'] == 'path'}
        return [{'in': 'path', 'name': name, 'required': True, 'schema': {'type': 'string'}}
                for name in re.findall(r'{(\w+)}', path) if name not in described]

    def body_schema(self, doc: Doc) -> dict:
        ref = self.converter.resolve_nested_schema(doc.body)
        if not doc.either:
            return ref
        first, second = doc.either
        return {'allOf': [ref], 'anyOf': [{'required': [first]}, {'required': [second]}],
                'description': f'`{first}` and `{second}` name the same id: send either.'}

    def form_schema(self, form: Schema) -> dict:
        schema = self.converter.schema2jsonschema(form)
        schema['properties']['files'] = {
            'type': 'array', 'minItems': 1, 'maxItems': self.config['UPLOAD_FILE_MAX_NUMBER'],
            'items': {'type': 'string', 'format': 'binary'},
            'description': 'The files, each at most {} bytes.'.format(
                self.config['UPLOAD_FILE_MAX_SIZE'])}
        schema['required'] = ['files']
        return schema

    def query_parameters(self, doc: Doc) -> list[dict]:
        parameters = self.converter.schema2parameters(doc.query, location='query')
        for parameter in parameters:
            if not parameter['required']:  # Sanic drops blank values: `a=` is no `a`
                parameter['allowEmptyValue'] = True
            if doc.either and parameter['name'] in doc.either:
                other = [name for name in doc.either if name != parameter['name']][0]
                parameter['description'] = (f'The same id as `{other}`: send one of the '
                                            'two.')
        return parameters

    def build(self) -> dict:
        for route in sorted(self.app.router.routes, key=lambda r: r.path):
            doc = getattr(route_handler(route), 'openapi', None) or Doc('Undocumented.')
            path = doc.path or '/' + ROUTE_PARAM.sub(r'{\1}', route.path)
            operations = {method.lower(): self.operation(route, path, method.lower(), doc)
                          for method in sorted(route.methods - NOT_OPERATIONS)}
            if not operations:
                continue
            self.spec.path(path=path, operations=operations)
        return self.spec.to_dict()


_INTRO = """The API of the weiguan mobile app. Its reference, with the rules behind
each route, is docs/api.md in the repository; the types the app's parsers demand
are docs/contract/client-entities.schema.json.

Every answer except file downloads, this document and /docs is the envelope
`{"code", "message", "data"}`. `code` is a stable machine string: `ok`, `fail` and
`duplicate` come with HTTP 200, the others with their own status (400
`invalid_param`, 401 `not_authenticated`, 403 `forbidden`, 404 `not_found`, 413
`payload_too_large`, 429 `too_many_requests`, 500 `internal_error`, 503
`unavailable`). Field names are camelCase on the wire. Login state is a server-side
session referenced by the `session` cookie. An unknown route (or method) answers 404
`not_found`."""


def build_document(app: Sanic) -> dict:
    return _Builder(app).build()


def document(app: Sanic) -> dict:
    """The app's document, built once on first use (the routes are fixed by then)."""
    if getattr(app.ctx, 'openapi', None) is None:
        app.ctx.openapi = build_document(app)
    return app.ctx.openapi
