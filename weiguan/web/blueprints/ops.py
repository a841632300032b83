from sanic import Blueprint, Request

from ..envelope import ok
from ..openapi import documented

ops = Blueprint('ops')


@ops.get('/health', ctx_no_session=True)
@documented('Liveness: answers without touching any dependency.',
            data={'status': str})
async def health(request: Request):
    """Answers without touching any dependency: the process is up."""
    return ok(status='ok')


@ops.get('/ready', ctx_no_session=True)
@documented('Readiness: ok when the database and the cache answer (else 503).',
            data={'database': bool, 'cache': bool})
async def ready(request: Request):
    """Answers ok only when the database and the cache both answer."""
    return ok(**await request.app.ctx.services.health_service.check())
