import functools

from sanic import Request

from ..entities.errors import NotAuthenticated


def current_user_id(request: Request) -> int | None:
    session = getattr(request.ctx, 'session', None)
    return session.get('user_id') if session else None


def login_required(handler):
    """The handler runs only for a logged-in user; request.ctx.user_id is set."""
    @functools.wraps(handler)
    async def guarded(request: Request, *args, **kwargs):
        user_id = current_user_id(request)
        if user_id is None:
            raise NotAuthenticated()
        request.ctx.user_id = user_id
        return await handler(request, *args, **kwargs)
    guarded.needs_login = True  # read by the OpenAPI document (web/openapi.py)
    return guarded
