"""GET /openapi.json: the OpenAPI document; GET /docs: Swagger UI over it, for people.

Swagger UI comes from the swagger-ui-py package, whose wheel ships the built
swagger-ui-dist files: the page and its assets are served by this server alone
(GET /docs/<name>, a fixed list), so it works offline and loads nothing from another
host. Only the assets are taken from the package, not its Sanic blueprint: that one
starts Swagger UI from an inline script (which would need 'unsafe-inline' in the
page's Content-Security-Policy), serves the package's whole folder and adds routes
that are not in the OpenAPI document. Here the page is static HTML and Swagger UI is
started by a script of our own from the same origin (ASSETS['init.js']), so the
page's policy (web/security.py, DOCS_POLICY) allows scripts and styles from 'self'
only. Try-it-out sends its requests to this same origin, with the session cookie.
Nothing here touches a session or a store."""
import functools
from importlib.resources import files

import orjson
from sanic import Blueprint, HTTPResponse, Request
from sanic.exceptions import NotFound
from sanic.response import html

from ..openapi import document, documented
from ..security import DOCS_POLICY

docs = Blueprint('docs')

SWAGGER_UI = files('swagger_ui') / 'static'  # swagger-ui-dist, as the package ships it
# The assets the page needs, by name, with their content types: the package's files,
# and our start script.
ASSET_TYPES = {
    'swagger-ui.css': 'text/css; charset=utf-8',
    'index.css': 'text/css; charset=utf-8',
    'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
    'favicon-32x32.png': 'image/png',
    'init.js': 'text/javascript; charset=utf-8',
}
INIT_JS = b"""// Starts Swagger UI on this server's own document (GET /openapi.json).
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    displayRequestDuration: true,
    validatorUrl: null,  // the default asks validator.swagger.io about the document
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
"""
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>weiguan API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="stylesheet" href="/docs/index.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
# The assets change only with the pinned package: a browser may keep them an hour.
ASSET_CACHE = 'public, max-age=3600'
ASSET_PARAMETERS = ({'in': 'path', 'name': 'name', 'required': True,
                     'schema': {'type': 'string', 'enum': sorted(ASSET_TYPES)},
                     'description': 'The asset; any other name is 404.'},)
ASSET_RESPONSES = {'200': {'description': 'The file.', 'content': {
    content_type.split(';')[0]: {'schema': {'type': 'string'}}
    for content_type in sorted(set(ASSET_TYPES.values()))}}}


@functools.cache  # the package's files and ours never change while it runs: 1.5 MB
def _asset(name: str) -> bytes:
    if name == 'init.js':
        return INIT_JS
    return (SWAGGER_UI / name).read_bytes()


@docs.get('/openapi.json', ctx_no_session=True)
@documented('This document (OpenAPI 3).', responses={'200': {
    'description': 'The OpenAPI document, not wrapped in the envelope.',
    'content': {'application/json': {'schema': {
        'type': 'object', 'required': ['openapi', 'info', 'paths']}}}}})
async def openapi_json(request: Request):
    body = getattr(request.app.ctx, 'openapi_json', None)
    if body is None:  # built once per app: the routes are fixed by then
        body = request.app.ctx.openapi_json = orjson.dumps(document(request.app))
    return HTTPResponse(body, content_type='application/json')


@docs.get('/docs', ctx_no_session=True)
@documented('This document in Swagger UI, with try-it-out.', responses={'200': {
    'description': 'An HTML page whose scripts and styles are all under /docs/.',
    'content': {'text/html': {'schema': {'type': 'string'}}}}})
async def docs_html(request: Request):
    return html(PAGE, headers={'Content-Security-Policy': DOCS_POLICY})


@docs.get('/docs/<name:str>', ctx_no_session=True)
@documented('A file of the /docs page (Swagger UI\'s, from the swagger-ui-py package).',
            errors=(404,), responses=ASSET_RESPONSES, parameters=ASSET_PARAMETERS)
async def docs_asset(request: Request, name: str):
    if name not in ASSET_TYPES:
        raise NotFound()
    return HTTPResponse(_asset(name), content_type=ASSET_TYPES[name],
                        headers={'Cache-Control': ASSET_CACHE})
