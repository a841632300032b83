"""GET /openapi.json: the OpenAPI document; GET /docs: the same as a page for people.
Both are built once per app from its routes and touch no session or store."""
import orjson
from sanic import Blueprint, HTTPResponse, Request
from sanic.response import html

from .. import docs_page
from ..openapi import document, documented

docs = Blueprint('docs')
# The page is plain HTML with one inline style sheet: nothing else may load or run.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _cached(request: Request, name: str, make):
    value = getattr(request.app.ctx, name, None)
    if value is None:
        value = make(document(request.app))
        setattr(request.app.ctx, name, value)
    return value


@docs.get('/openapi.json', ctx_no_session=True)
@documented('This document (OpenAPI 3).', responses={'200': {
    'description': 'The OpenAPI document, not wrapped in the envelope.',
    'content': {'application/json': {'schema': {
        'type': 'object', 'required': ['openapi', 'info', 'paths']}}}}})
async def openapi_json(request: Request):
    body = _cached(request, 'openapi_json', orjson.dumps)
    return HTTPResponse(body, content_type='application/json')


@docs.get('/docs', ctx_no_session=True)
@documented('This document as an HTML page.', responses={'200': {
    'description': 'A self-contained HTML page.',
    'content': {'text/html': {'schema': {'type': 'string'}}}}})
async def docs_html(request: Request):
    return html(_cached(request, 'docs_html', docs_page.render),
                headers={'Content-Security-Policy': PAGE_POLICY})
