"""Request bodies bounded before they are read, per route.

Sanic reads a whole body into memory before any middleware runs, against one
app-wide REQUEST_MAX_SIZE, and it sends `100 Continue` and counts the bytes only
as they arrive. Here every route that takes a body is made a streaming route
(Sanic then leaves the body unread), its handler wrapped to decide from the
headers alone, after the request middleware opened the session:

- the route's limit: JSON routes take at most JSON_BODY_MAX_SIZE (the longest
  valid request, a 1,000-character post text escaped as \\uXXXX surrogate pairs, is
  about 12 KB; 32 KB leaves room for the extra fields the app sends), the upload
  route REQUEST_MAX_SIZE (`ctx_large_body` on the route). A Content-Length over it
  is a 413 at once; a chunked body is cut off at the limit as it comes.
- a route that needs a login: an anonymous request is a 401 before a byte of its
  body is read.

Then a JSON route's body is read (and the handler runs as on any route); the
upload route reads its own, part by part (web/multipart.py). A refused request
gets no `100 Continue` and its connection is closed after the answer (the body
still on the wire cannot be parsed as a next request). Before closing, the
server reads and drops up to REFUSED_BODY_DRAIN (1 MB) more of a body the client
is already sending, as nginx's lingering close does: closing a socket with
unread bytes in it makes the kernel send a reset, and a reset can reach the
client before it has read the 413 or 401, which it then never sees. A client
that asked for `100 Continue` sends nothing more, so its connection is closed at
once.

A wrapper on the routes that take a body, rather than Sanic's `http.routing.after`
signal: a signal with a handler is dispatched on every request, /health included,
and that dispatch was a tenth of the CPU of the cheapest answers
(bench/http_bench.py --profile)."""
import functools

from sanic import Request, Sanic
from sanic.exceptions import PayloadTooLarge as SanicPayloadTooLarge

from ..entities.errors import NotAuthenticated, PayloadTooLarge
from .guards import current_user_id

BODY_METHODS = frozenset({'POST', 'PUT', 'PATCH', 'DELETE'})
REFUSED_BODY_DRAIN = 1024 * 1024


def _refuse_body(request: Request, error: Exception, read_so_far: int = 0) -> Exception:
    """Sanic drains the unread body after the answer, up to `request_max_size`
    bytes in all (counted from the first body byte); past it, it closes at once."""
    stream = request.stream
    stream.keep_alive = False
    if stream.expecting_continue:
        stream.expecting_continue = False  # no 100 Continue: no body will come
        stream.request_max_size = 0
    else:
        stream.request_max_size = read_so_far + REFUSED_BODY_DRAIN
    return error


def bounded(handler, limit: int, streams_itself: bool):
    needs_login = getattr(handler, 'needs_login', False)

    @functools.wraps(handler)
    async def bounded_body(request: Request, *args, **kwargs):
        stream = request.stream
        if stream is not None and stream.request_body:
            length = request.headers.get('content-length')
            if length is not None and length.isdigit() and int(length) > limit:
                raise _refuse_body(request, PayloadTooLarge())
            stream.request_max_size = limit
            if needs_login and current_user_id(request) is None:
                raise _refuse_body(request, NotAuthenticated())
            if not streams_itself:
                try:
                    await request.receive_body()
                except SanicPayloadTooLarge:  # a chunked body went over the limit
                    raise _refuse_body(request, PayloadTooLarge(), limit) from None
        return await handler(request, *args, **kwargs)
    bounded_body.is_stream = True  # Sanic: do not read the body before the handler
    return bounded_body


def install_body_limits(app: Sanic, json_limit: int, upload_limit: int) -> None:
    """Call once every route that takes a body is registered."""
    for route in app.router.routes:
        handler = route.handler
        if not route.methods & BODY_METHODS or hasattr(handler, 'is_websocket') \
                or hasattr(handler, 'is_stream'):
            continue
        large = getattr(route.ctx, 'large_body', False)
        route.handler = bounded(handler, upload_limit if large else json_limit,
                                streams_itself=large)
