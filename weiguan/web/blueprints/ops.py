from dependency_injector.wiring import Provide
from sanic import Blueprint, Request

from ...container import Container
from ...services.health import HealthService

from ..envelope import ok
from ..openapi import documented

ops = Blueprint('ops')
# Its service, set by container.wire() at start (web/app.py).
health_checks: HealthService = Provide[Container.health_service]


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
    return ok(**await health_checks.check())
