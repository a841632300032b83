"""The OpenAPI document: valid OpenAPI 3, one operation per route of the app, built
from the very schemas the handlers load, and served at /openapi.json and /docs."""
import itertools
import re
from collections import defaultdict

import pytest
from marshmallow import Schema
from openapi_spec_validator import validate
from sanic import Request
from sanic.exceptions import SanicException

from weiguan.entities.requests import RequestSchema
from weiguan.web.app import create_app
from weiguan.web.envelope import STATUS
from weiguan.web.openapi import build_document, route_handler

from .support import register


_names = itertools.count()


@pytest.fixture
def app(config):
    return create_app(config, name=f'weiguan_openapi_{next(_names)}')


@pytest.fixture
def document(app) -> dict:
    return build_document(app)


def openapi_path(route) -> str:
    documented_path = route_handler(route).openapi.path
    return documented_path or '/' + re.sub(r'<(\w+):\w+>', r'{\1}', route.path)


def test_document_is_valid_openapi_3(document):
    validate(document)  # raises on any violation of the OpenAPI 3.0 schema
    assert document['openapi'].startswith('3.')


def test_every_route_is_one_documented_operation(app, document):
    undocumented = [r.name for r in app.router.routes
                    if getattr(route_handler(r), 'openapi', None) is None]
    assert undocumented == []
    routes = {(openapi_path(r), m.lower()) for r in app.router.routes for m in r.methods
              if m != 'OPTIONS'}  # CORS preflights are not operations
    operations = {(path, method) for path, item in document['paths'].items()
                  for method in item}
    assert operations == routes
    assert {'/files/{bucket}/{path}', '/message/ws', '/openapi.json', '/docs', '/health',
            '/ready', '/storage/upload'} <= {path for path, _ in routes}


def test_login_routes_need_the_session_cookie_and_answer_401(app, document):
    scheme = document['components']['securitySchemes']['session']
    assert scheme == {'type': 'apiKey', 'in': 'cookie', 'name': 'session',
                      'description': scheme['description']}
    for route in app.router.routes:
        needs_login = getattr(route_handler(route), 'needs_login', False)
        for method in route.methods:
            operation = document['paths'][openapi_path(route)][method.lower()]
            assert ('401' in operation['responses']) == needs_login, route.name
            assert (operation['security'] == [{'session': []}]) == needs_login, route.name
    assert document['paths']['/post/publish']['post']['security'] == [{'session': []}]
    assert document['paths']['/account/info']['get']['security'] == [{}, {'session': []}]


def test_envelope_and_errors_are_documented(document):
    assert document['components']['schemas']['Code']['enum'] == list(STATUS)
    responses = document['components']['responses']
    assert responses['TooManyRequests']['headers']['Retry-After']['required'] is True
    for path, item in document['paths'].items():
        for method, operation in item.items():
            statuses = set(operation['responses'])
            assert {'500', '503'} <= statuses, (method, path)
            if method == 'post':
                assert '413' in statuses, path
            if 'parameters' in operation and any(p['in'] == 'query'
                                                 for p in operation['parameters']):
                assert '400' in statuses, path
    paths = document['paths']
    assert '429' in paths['/account/send/mobile/verify/code']['post']['responses']
    assert '429' in paths['/account/login']['post']['responses']
    assert {'403', '404'} <= set(paths['/post/delete']['post']['responses'])
    envelope = paths['/user/info']['get']['responses']['200']['content'][
        'application/json']['schema']
    assert envelope['required'] == ['code', 'message', 'data']
    assert envelope['properties']['code']['enum'] == ['ok']
    assert envelope['properties']['data']['properties']['user'] == {
        '$ref': '#/components/schemas/User'}
    refusable = paths['/user/follow']['post']['responses']['200']['content'][
        'application/json']['schema']['oneOf']
    assert [s['properties']['code']['enum'] for s in refusable] == [['ok'],
                                                                     ['fail', 'duplicate']]


def test_wire_names_aliases_and_nullables(document):
    schemas = document['components']['schemas']
    assert {'imageIds', 'videoId', 'type', 'text'} == set(schemas['PublishRequest']['properties'])
    assert schemas['PublishRequest']['properties']['videoId']['nullable'] is True
    user = schemas['User']
    assert user['properties']['mobile']['nullable'] is True
    assert user['properties']['avatar'] == {'allOf': [{'$ref': '#/components/schemas/File'}],
                                            'nullable': True}
    assert 'isFollowing' not in user['required'] and 'avatarId' in user['required']
    assert user['additionalProperties'] is False
    info = document['paths']['/user/info']['get']
    assert [p['name'] for p in info['parameters']] == ['id', 'userId']
    assert all('userId' in p['description'] or 'id' in p['description']
               for p in info['parameters'])
    follow = document['paths']['/user/follow']['post']['requestBody']['content'][
        'application/json']['schema']
    assert follow['anyOf'] == [{'required': ['followingId']}, {'required': ['userId']}]
    logged_out = document['paths']['/account/info']['get']['responses']['200']['content'][
        'application/json']['schema']['properties']['data']['properties']['user']
    assert logged_out == {'allOf': [{'$ref': '#/components/schemas/User'}], 'nullable': True}
    username = schemas['RegisterRequest']['properties']['username']['pattern']
    assert username.startswith('^') and username.endswith('$')  # ECMA 262, not \A \Z


def test_upload_is_a_multipart_form_with_the_configured_limits(config, app, document):
    form = document['paths']['/storage/upload']['post']['requestBody']['content'][
        'multipart/form-data']['schema']
    assert set(form['properties']) == {'region', 'bucket', 'path', 'files'}
    assert form['properties']['files']['maxItems'] == config['UPLOAD_FILE_MAX_NUMBER']
    assert form['required'] == ['files']


async def test_each_handler_loads_exactly_the_schema_it_documents(
        server, client, monkeypatch, fast_passwords):
    """The documented load schema is the object the handler passes to its loader:
    every route is called once, and each RequestSchema load is recorded against the
    route of the request it happens in."""
    await register(client, 'loader')
    loads = defaultdict(list)
    original = Schema.load

    def recording_load(self, *args, **kwargs):
        try:
            request = Request.get_current()
        except SanicException:
            request = None
        if request is not None and isinstance(self, RequestSchema):
            loads[request.route.name].append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Schema, 'load', recording_load)
    called = 0
    for route in server.app.router.routes:
        if getattr(route.extra, 'websocket', False) or route.path == 'account/logout':
            continue
        doc = route_handler(route).openapi
        path = '/' + route.path.replace('<location:path>', 'default/missing.png')
        if doc.form is not None:
            await client.post(path, files={'files': ('a.txt', b'hello')})
        elif 'POST' in route.methods:
            await client.post(path, json={})
        else:
            await client.get(path)
        called += 1
        if doc.loads is None:
            assert loads[route.name] == [], route.name
        else:
            assert loads[route.name] and all(s is doc.loads for s in loads[route.name]), \
                (route.name, loads[route.name], doc.loads)
    assert called >= 25


async def test_openapi_json_is_served_as_built(server, client):
    response = await client.get('/openapi.json')
    assert response.status_code == 200
    assert response.headers['content-type'] == 'application/json'
    assert 'set-cookie' not in response.headers
    assert response.json() == build_document(server.app)


async def test_docs_page_lists_every_operation(server, client):
    response = await client.get('/docs')
    assert response.status_code == 200
    assert response.headers['content-type'].startswith('text/html')
    page = response.text
    assert page.startswith('<!doctype html>') and '<script' not in page
    assert "default-src 'none'" in response.headers['content-security-policy']
    document = (await client.get('/openapi.json')).json()
    for path, item in document['paths'].items():
        assert f'<span class="path">{path}</span>' in page
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in page
    for name in document['components']['schemas']:
        assert f'id="schema-{name}"' in page
    assert '<code>imageIds</code>' in page and 'Needs login: yes.' in page
