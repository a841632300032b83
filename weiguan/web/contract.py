"""What each handler reads and answers, declared once with `@documented(...)`.

The declaration is both the OpenAPI operation (web/openapi.py builds the document
from it) and the loading: a handler given a `query`, `body` or `form` schema receives
the loaded, validated data as its `data` argument (a form handler also gets `files`),
so the schema documented is by construction the schema applied. Bad input becomes a
400 `invalid_param` naming the field before the handler runs (web/params.py).

Apply it innermost, right above the handler: the guards around it (login_required,
idempotent) then run before anything is read, as they always have."""
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from marshmallow import Schema

from .multipart import multipart
from .params import QueryLoads, json_body

# The failures every envelope route may answer with, by HTTP status.
ERRORS = {
    400: ('InvalidParam', 'invalid_param', 'A missing, mistyped or out-of-range '
          'parameter; the message names it.'),
    401: ('NotAuthenticated', 'not_authenticated', 'The route needs a logged-in user.'),
    403: ('Forbidden', 'forbidden', 'Logged in, but not allowed.'),
    404: ('NotFound', 'not_found', 'The id names nothing.'),
    413: ('PayloadTooLarge', 'payload_too_large', 'The body (or a file) is over the limit.'),
    429: ('TooManyRequests', 'too_many_requests', 'Rate limit hit; retry after '
          '`Retry-After` seconds.'),
    500: ('InternalError', 'internal_error', 'A defect. The message says nothing internal '
          'unless DEBUG is on.'),
    503: ('Unavailable', 'unavailable', 'The database or the cache is unreachable; the '
          'request changed nothing.'),
}
REFUSALS = ('fail', 'duplicate')  # answered with HTTP 200 and `data: {}`


@dataclass(frozen=True)
class Doc:
    summary: str
    query: Schema | None = None
    body: Schema | None = None
    form: Schema | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    refusals: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    either: tuple[str, str] | None = None
    responses: Mapping[str, dict] | None = None
    parameters: tuple[dict, ...] = ()
    description: str = ''
    path: str | None = None

    @property
    def loads(self) -> Schema | None:
        return self.query or self.body or self.form


def _loading(handler: Callable, doc: Doc) -> Callable:
    """The handler called with `data` (and `files`) read through the doc's schema."""
    if doc.body is not None:
        body = doc.body

        @functools.wraps(handler)
        async def with_body(request, *args, **kwargs):
            return await handler(request, *args, data=json_body(request, body), **kwargs)
        return with_body
    if doc.query is not None:
        query = QueryLoads(doc.query)

        @functools.wraps(handler)
        async def with_query(request, *args, **kwargs):
            return await handler(request, *args, data=query(request), **kwargs)
        return with_query
    if doc.form is not None:
        form = doc.form

        @functools.wraps(handler)
        async def with_form(request, *args, **kwargs):
            fields, files = await multipart(request)
            data = form.load({key: values[0] for key, values in fields.items()})
            return await handler(request, *args, data=data, files=files, **kwargs)
        return with_form
    return handler


def documented(summary: str, *, query: Schema | None = None, body: Schema | None = None,
               form: Schema | None = None, data: Mapping[str, Any] | None = None,
               refusals: tuple[str, ...] = (), errors: tuple[int, ...] = (),
               either: tuple[str, str] | None = None,
               responses: Mapping[str, Any] | None = None,
               parameters: Sequence[dict] = (), description: str = '',
               path: str | None = None):
    """Declare the handler's contract: document it and load what it reads.

    query / body / form: the load schema instance of the query string, the JSON body,
    or the multipart fields beside the `files`; the handler gets the loaded dict as
    `data` (and the multipart files as `files`). data: the keys of the envelope's
    `data` on success, each a dump schema instance (a `many` one is a list), a
    marshmallow field, `int`/`str`/`bool`, or `nullable(...)` of one of those.
    refusals: the codes among fail/duplicate the route answers with (HTTP 200).
    errors: HTTP statuses beyond the ones every route of its kind may answer.
    either: two names of one id of which one must be sent (`id`/`userId`).
    responses: raw OpenAPI responses for a route that does not answer an envelope;
    parameters: raw OpenAPI parameters it reads besides (headers).
    path: the path as clients see it, where a route parameter spans several
    segments (/files/<location:path> is /files/{bucket}/{path})."""
    assert sum(s is not None for s in (query, body, form)) <= 1, 'one load schema'
    assert set(refusals) <= set(REFUSALS) and set(errors) <= set(ERRORS)
    doc = Doc(summary, query, body, form, dict(data or {}), tuple(refusals),
              tuple(errors), either, responses, tuple(parameters), description, path)

    def mark(handler):
        declared = _loading(handler, doc)
        declared.openapi = doc  # copied outward by the functools.wraps of the guards
        return declared
    return mark


def route_handler(route):
    """The handler as written (Sanic wraps WebSocket handlers in a partial)."""
    handler = route.handler
    if isinstance(handler, functools.partial) and handler.args:
        handler = handler.args[0]
    return handler


@dataclass(frozen=True)
class Nullable:
    value: Any


def nullable(value: Any) -> Nullable:
    """A `data` entry that may be null (e.g. the user of a logged-out session)."""
    return Nullable(value)
