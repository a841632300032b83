"""The mobile app's parsers, held against every answer the tests receive.

docs/contract/client-entities.schema.json is what the app's generated parsers read,
written as JSON Schema. Plain JSON Schema validators count 0.0 as an integer, the app
(Dart: `json['x'] as int`) does not: here `integer` is a Python int that is not a
bool, and `date-time` is what datetime.fromisoformat reads.

`answer_violations` checks an HTTP answer: the envelope, and each entity in its
`data`, found by key (DATA_ENTITIES: every route answers its entities under these
keys; tests/e2e/test_client_contract.py proves from the OpenAPI document that no route
answers one under another key). `frame_violations` checks a WebSocket frame as a
Message. conftest.py wraps every httpx.AsyncClient and WebSocket client with them.
"""
import json
from datetime import datetime
from pathlib import Path

import orjson
from jsonschema import Draft202012Validator, FormatChecker, validators

SCHEMA_PATH = (Path(__file__).resolve().parents[2] / 'docs' / 'contract'
               / 'client-entities.schema.json')
SCHEMA = json.loads(SCHEMA_PATH.read_text())

# The envelope's `data` keys that carry entities (a list under a plural key), and the
# definition each is parsed with; `total` is a count.
DATA_ENTITIES = {'user': 'user', 'users': 'user', 'post': 'post', 'posts': 'post',
                 'file': 'file', 'files': 'file'}
LIST_KEYS = {'users', 'posts', 'files'}
NOT_ENVELOPES = {'/openapi.json'}  # JSON, but the OpenAPI document itself


def _is_integer(checker, value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(checker, value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES = Draft202012Validator.TYPE_CHECKER.redefine_many(
    {'integer': _is_integer, 'number': _is_number})
StrictValidator = validators.extend(Draft202012Validator, type_checker=_TYPES)

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks('date-time', raises=ValueError)
def _date_time(value) -> bool:
    return not isinstance(value, str) or bool(datetime.fromisoformat(value))


def _validator(definition: str):
    schema = {key: value for key, value in SCHEMA.items() if key != '$id'}
    return StrictValidator({**schema, '$ref': f'#/$defs/{definition}'},
                           format_checker=_FORMATS)


VALIDATORS = {name: _validator(name) for name in SCHEMA['$defs']}


def _deepest(error):
    """Of a failed oneOf (an entity or null), the branch's own deepest failures."""
    if not error.context:
        return [error]
    leaves = [leaf for inner in error.context for leaf in _deepest(inner)]
    depth = max(len(leaf.absolute_path) for leaf in leaves)
    return [leaf for leaf in leaves if len(leaf.absolute_path) == depth]


def violations(definition: str, value, where: str) -> list[str]:
    """What in `value` the app's parser for `definition` would choke on."""
    return [f'{where}{"".join(f"[{p!r}]" for p in error.absolute_path)}: {error.message}'
            for found in VALIDATORS[definition].iter_errors(value)
            for error in _deepest(found)]


def answer_violations(body) -> list[str]:
    """The envelope, every entity under a DATA_ENTITIES key, and `total`."""
    found = violations('envelope', body, 'answer')
    if found or body['code'] != 'ok':
        return found
    for key, value in body['data'].items():
        where = f'data.{key}'
        if key == 'total' and not _is_integer(None, value):
            found.append(f'{where}: {value!r} is not an integer')
        if key not in DATA_ENTITIES:
            continue
        if key in LIST_KEYS:
            if not isinstance(value, list):
                found.append(f'{where}: {value!r} is not a list')
                continue
            items = list(enumerate(value))
        elif value is None:  # /account/info and /account/logout, logged out
            continue
        else:
            items = [(None, value)]
        for index, item in items:
            found += violations(DATA_ENTITIES[key], item,
                                where if index is None else f'{where}[{index}]')
    return found


def frame_violations(frame) -> list[str]:
    """A WebSocket text frame: one Message, as JSON."""
    if not isinstance(frame, str):
        return [f'frame: a binary frame {frame[:40]!r}']
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return [f'frame: not JSON {frame[:80]!r}']
    return violations('message', message, 'frame')


def json_answer(path: str, content_type: str, content: bytes):
    """The decoded body of an envelope answer, or None for any other answer."""
    if path in NOT_ENVELOPES or not content_type.startswith('application/json'):
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


class ContractViolation(AssertionError):
    """An answer the app's parsers would not read."""


def watch_clients(monkeypatch, found: list[str]) -> None:
    """Check every answer an httpx.AsyncClient and every frame a WebSocket client
    receives; a violation raises ContractViolation at once and stays in `found` (so
    that a test swallowing the exception still fails)."""
    import httpx
    from websockets.asyncio.client import ClientConnection

    def report(where: str, problems: list[str]) -> None:
        if problems:
            found.extend(f'{where}: {problem}' for problem in problems)
            raise ContractViolation('\n'.join(found))

    send = httpx.AsyncClient.send

    async def checked_send(self, request, *args, **kwargs):
        response = await send(self, request, *args, **kwargs)
        if not kwargs.get('stream'):
            body = json_answer(request.url.path, response.headers.get('content-type', ''),
                               response.content)
            if body is not None:
                report(f'{request.method} {request.url.path}', answer_violations(body))
        return response

    recv = ClientConnection.recv

    async def checked_recv(self, *args, **kwargs):
        frame = await recv(self, *args, **kwargs)
        report('WebSocket', frame_violations(frame))
        return frame

    monkeypatch.setattr(httpx.AsyncClient, 'send', checked_send)
    monkeypatch.setattr(ClientConnection, 'recv', checked_recv)
