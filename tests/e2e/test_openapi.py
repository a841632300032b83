"""The OpenAPI document: valid OpenAPI 3, one operation per route of the app, built
from the very schemas the handlers load, and served at /openapi.json and /docs."""
import itertools
import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest
from marshmallow import ValidationError
from openapi_spec_validator import validate

from weiguan.entities.inputs import validation_message
from weiguan.web.app import create_app
from weiguan.web.envelope import STATUS
from weiguan.web.openapi import build_document, route_handler

from tests.support import register


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


def _probes(schema) -> list[dict]:
    """Inputs a load schema may refuse: nothing, and a string for every field."""
    names = [f.data_key or name for name, f in schema.fields.items() if not f.dump_only]
    return [{}, {name: 'x' for name in names}]


async def test_each_route_refuses_what_its_documented_schema_refuses(
        server, client, fast_passwords):
    """The documented load schema is the one applied: for every route declaring one,
    an input that schema refuses is answered 400 `invalid_param` with the very message
    the schema gives for it (web/contract.py loads what @documented names)."""
    await register(client, 'loader')
    checked = set()
    for route in server.app.router.routes:
        doc = route_handler(route).openapi
        if doc.loads is None:
            continue
        path = '/' + route.path.replace('<location:path>', 'default/missing.png')
        for probe in _probes(doc.loads):
            try:
                doc.loads.load(probe)
            except ValidationError as error:
                expected = validation_message(error)
            else:
                continue
            if doc.form is not None:
                response = await client.post(path, data=probe,
                                             files={'files': ('a.txt', b'hello')})
            elif doc.body is not None:
                response = await client.post(path, json=probe)
            else:
                response = await client.get(path, params=probe)
            assert response.status_code == 400, (route.name, probe, response.text)
            body = response.json()
            assert (body['code'], body['message']) == ('invalid_param', expected), \
                (route.name, probe)
            checked.add(route.name)
    assert len(checked) >= 20, sorted(checked)  # every route that loads a schema


async def test_openapi_json_is_served_as_built(server, client):
    response = await client.get('/openapi.json')
    assert response.status_code == 200
    assert response.headers['content-type'] == 'application/json'
    assert 'set-cookie' not in response.headers
    assert response.json() == build_document(server.app)


class _References(HTMLParser):
    """The URLs a page makes the browser load, and whether it runs or styles inline."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        url = attrs.get('src') if tag in ('script', 'img') else \
            attrs.get('href') if tag == 'link' else None
        if url is not None:
            self.urls.append(url)
        elif tag == 'script':
            self.inline.append('<script> without src')
        if tag == 'style' or 'style' in attrs or any(a.startswith('on') for a in attrs):
            self.inline.append(f'<{tag}> {sorted(attrs)}')
        self._in_script = tag == 'script'

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append('script text')

    def handle_endtag(self, tag):
        self._in_script = False


ASSET_TYPES = {'.css': 'text/css', '.js': 'text/javascript', '.png': 'image/png'}


async def test_docs_page_is_swagger_ui_served_from_this_server(server, client):
    response = await client.get('/docs')
    assert response.status_code == 200
    assert response.headers['content-type'].startswith('text/html')
    assert 'set-cookie' not in response.headers
    page = _References()
    page.feed(response.text)
    assert page.inline == []
    # Every reference is a path on this server: no scheme, no other host.
    assert page.urls and all(u.startswith('/docs/') and '//' not in u for u in page.urls)
    package = files('swagger_ui') / 'static'
    for url in page.urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        mime = ASSET_TYPES[url[url.rindex('.'):]]
        assert asset.headers['content-type'].split(';')[0] == mime, url
        assert 'set-cookie' not in asset.headers
        if url != '/docs/init.js':  # the maintained package's files, byte for byte
            assert asset.content == (package / url.rsplit('/', 1)[1]).read_bytes()
    assert {'/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/init.js'} <= \
        set(page.urls)
    # Swagger UI starts on this server's own document, with no outside validator.
    start = (await client.get('/docs/init.js')).text
    assert "SwaggerUIBundle({" in start and "url: '/openapi.json'" in start
    assert 'validatorUrl: null' in start and '://' not in start
    assert (await client.get('/openapi.json')).json()['paths']


@pytest.mark.parametrize('path', ['/docs/swagger-editor-bundle.js', '/docs/LICENSE',
                                  '/docs/oauth2-redirect.html', '/docs/..%2Fcore.py',
                                  '/docs/%2e%2e', '/docs/swagger-ui.css/x'])
async def test_docs_serves_its_listed_assets_only(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()['code'] == 'not_found'
