"""Request bodies bounded before they are read, per route.

Sanic reads a whole body into memory before any middleware runs, against one
app-wide REQUEST_MAX_SIZE, and it sends `100 Continue` and counts the bytes only
as they arrive. This hook runs right after routing, before the body is read
(Sanic's `http.routing.after` signal), and decides from the headers alone:

- the route's limit: JSON routes take at most JSON_BODY_MAX_SIZE (the longest
  valid request, a 1,000-character post text escaped as \\uXXXX surrogate pairs, is
  about 12 KB; 32 KB leaves room for the extra fields the app sends), the upload
  route REQUEST_MAX_SIZE (`ctx_large_body` on the route). A Content-Length over it
  is a 413 at once; a chunked body is cut off at the limit as it comes.
- a route that needs a login opens the session now: an anonymous request is a 401
  before a byte of its body is read.

A refused request gets no `100 Continue`, its body is never read, and its
connection is closed after the answer (the body still on the wire cannot be
parsed as a next request)."""
from sanic import Request, Sanic

from ..entities.errors import NotAuthenticated, PayloadTooLarge
from .guards import current_user_id
from .openapi import route_handler


def _refuse_body(request: Request, error: Exception) -> Exception:
    stream = request.stream
    stream.expecting_continue = False  # no 100 Continue before the refusal
    stream.keep_alive = False
    stream.request_max_size = 0  # Sanic's drain of the unread body then stops at once
    return error


def install_body_limits(app: Sanic, json_limit: int, upload_limit: int,
                        open_session) -> None:
    @app.signal('http.routing.after')
    async def bound_body(request: Request, route, handler, **_) -> None:
        stream = request.stream
        if stream is None or not stream.request_body:
            return
        limit = upload_limit if getattr(route.ctx, 'large_body', False) else json_limit
        length = request.headers.get('content-length')
        if length is not None and length.isdigit() and int(length) > limit:
            raise _refuse_body(request, PayloadTooLarge())
        stream.request_max_size = limit
        if getattr(route_handler(route), 'needs_login', False):
            await open_session(request)
            if current_user_id(request) is None:
                raise _refuse_body(request, NotAuthenticated())
