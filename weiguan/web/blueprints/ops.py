from sanic import Blueprint, Request

from ..envelope import ok

ops = Blueprint('ops')


@ops.get('/health', ctx_no_session=True)
async def health(request: Request):
    """Answers without touching any dependency: the process is up."""
    return ok(status='ok')


@ops.get('/ready', ctx_no_session=True)
async def ready(request: Request):
    """Answers ok only when the database and the cache both answer."""
    return ok(**await request.app.ctx.services.health_service.check())
