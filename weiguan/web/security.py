"""Headers every response carries (errors, 404s, /files and /health included), and
CORS for the configured origins.

Security headers: the answers are JSON or stored media, never pages to frame or to
sniff as HTML; no URL leaks to other sites through Referer; API answers (they may
hold a user's data) are not cached unless the handler said otherwise (/files).
The Swagger UI page (GET /docs, web/blueprints/docs.py) sets its own policy,
DOCS_POLICY: scripts, styles and images from this origin only (plus the data: URIs of
Swagger UI's icons and the blob: URLs it shows image answers with), fetches to this
origin only (its document and try-it-out), and nothing inline. Any other HTML answer
gets PAGE_POLICY, the framing rule alone.

CORS is off unless CORS_ORIGINS lists origins: then a request from a listed origin
gets its answer readable with credentials (the session cookie), and an OPTIONS
preflight on any route is answered; other origins get no CORS header, so a browser
keeps their pages from reading anything. It is written here, not taken from a
package: sanic-ext's CORS needs all of sanic-ext (not used here: it cannot
read marshmallow schemas for the OpenAPI document) and sanic-cors
targets older Sanic releases, while what is needed is a response middleware and one
OPTIONS route per path."""
from typing import Callable

from sanic import HTTPResponse, Request, Sanic

SECURITY_HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
}
STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
PAGE_POLICY = "frame-ancestors 'none'"
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
               "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")
PREFLIGHT_MAX_AGE = '600'
ALLOWED_HEADERS = 'Content-Type, Idempotency-Key'
EXPOSED_HEADERS = 'Retry-After'


def cors_origins(setting: str) -> frozenset[str]:
    """'https://a.example, https://b.example' -> the set of origins."""
    return frozenset(origin.strip().rstrip('/') for origin in setting.split(',')
                     if origin.strip())


def install_security(app: Sanic, config: dict,
                     also: Callable[[Request], tuple[str, str]] | None = None) -> None:
    """Call after every blueprint is registered: the preflight routes mirror them.
    `also(request)`: one more (name, value) header for every answer (the request
    id), set by the same middleware."""
    origins = cors_origins(config['CORS_ORIGINS'])

    def add_headers(request: Request, response: HTTPResponse) -> None:
        # plain, not async: Sanic then calls it without making a coroutine
        headers = response.headers
        if also is not None:
            name, value = also(request)
            headers[name] = value
        headers.update(SECURITY_HEADERS)
        is_page = (response.content_type or '').startswith('text/html')
        headers.setdefault('Content-Security-Policy',
                           PAGE_POLICY if is_page else STRICT_POLICY)
        headers.setdefault('Cache-Control', 'no-store')
        if origins:
            headers.add('Vary', 'Origin')
            origin = request.headers.get('origin')
            if origin in origins:
                headers['Access-Control-Allow-Origin'] = origin
                headers['Access-Control-Allow-Credentials'] = 'true'
                headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS

    # Sanic runs response middleware in ascending priority: this one first, so it
    # runs even when a later one (the session's save) fails.
    app.register_middleware(add_headers, 'response', priority=-1000)
    if origins:
        _add_preflight_routes(app, origins)


def _add_preflight_routes(app: Sanic, origins: frozenset[str]) -> None:
    methods_by_uri: dict[str, set[str]] = {}
    for route in app.router.routes:
        methods_by_uri.setdefault(route.uri, set()).update(route.methods)
    for number, (uri, methods) in enumerate(sorted(methods_by_uri.items())):
        allowed = ', '.join(sorted(methods - {'OPTIONS'}))

        async def preflight(request: Request, allowed=allowed, **_) -> HTTPResponse:
            headers = {'Allow': allowed}
            if (request.headers.get('origin') in origins
                    and 'access-control-request-method' in request.headers):
                headers.update({'Access-Control-Allow-Methods': allowed,
                                'Access-Control-Allow-Headers': ALLOWED_HEADERS,
                                'Access-Control-Max-Age': PREFLIGHT_MAX_AGE})
            return HTTPResponse(status=204, headers=headers)
        app.add_route(preflight, uri, methods=['OPTIONS'], name=f'cors_preflight_{number}',
                      ctx_no_session=True)
