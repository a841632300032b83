"""The Sanic app factory and the server entry point: python -m weiguan.web.app"""
from ..runtime import check_python, settle_gc

check_python()

import asyncio
import logging
import os
from functools import partial

from sanic import Sanic
from sanic.worker.loader import AppLoader

from ..config import load_config, upload_path
from ..container import (Container, build_container, init_handler_services,
                         wire_handlers)
from ..dependencies.logs import configure_logging
from ..dependencies.metrics import (SAMPLE_INTERVAL, Metrics, in_multiprocess_mode,
                                    prepare_multiprocess_dir)
from ..dependencies.tracing import Tracing
from . import blueprints
from .blueprints.account import account
from .blueprints.docs import docs
from .blueprints.message import message
from .blueprints.ops import ops
from .blueprints.post import post
from .blueprints.files import files
from .blueprints.storage import storage
from .blueprints.user import user
from .client_ip import install_client_ip
from .connections import CheckedRequest, GuardedProtocol, configure_connections
from .envelope import EnvelopeErrorHandler, dumps
from .observe import (ObservedSanic, install_observability, request_id_header,
                      request_log_context, start_observing)
from .security import install_security
from .body_limits import install_body_limits
from .sessions import install_sessions
from .sockets import SocketHub

logger = logging.getLogger('weiguan.web.app')  # not __name__: '__main__' under python -m
BLUEPRINTS = (ops, account, user, post, storage, files, message, docs)


# Seconds the listening socket stays open after a stop signal (see `drain`).
LISTEN_DRAIN = 0.2


def setup_logging(config: dict) -> None:
    """The process's log lines (LOG_FORMAT), with the request's ids in them."""
    context = configure_logging(config)
    context.providers.append(request_log_context)
    if config['TRACING_EXPORTER'] != 'none':
        context.providers.append(Tracing.log_context)


def create_app(config: dict | None = None, container: Container | None = None,
               name: str | None = None, drain: float = 0, log: bool = False,
               settle: bool = False) -> Sanic:
    """`log`: configure the process's logging; `settle`: settle its garbage collector
    once the server has started (runtime.settle_gc). The server's entry point and
    its workers do both; tests keep pytest's logging and collector."""
    config = config or load_config()
    if log:
        setup_logging(config)
    container = container or build_container(config)
    observed = config['METRICS'] or config['TRACING_EXPORTER'] != 'none'
    app = (ObservedSanic if observed else Sanic)(
        name or config['NAME'], dumps=dumps,
        error_handler=EnvelopeErrorHandler(debug=config['DEBUG']),
        request_class=CheckedRequest, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = config['REQUEST_MAX_SIZE']
    app.config.FALLBACK_ERROR_FORMAT = 'json'
    configure_connections(app, config)  # serve with protocol=GuardedProtocol
    app.config.WEBSOCKET_MAX_SIZE = config['WS_MAX_FRAME_SIZE']
    app.ctx.config = config
    app.ctx.container = container
    for blueprint in BLUEPRINTS:
        app.blueprint(blueprint)
    install_sessions(app, lambda: app.ctx.sessions, container.credential_service, config)
    install_body_limits(app, min(config['JSON_BODY_MAX_SIZE'], config['REQUEST_MAX_SIZE']),
                        config['REQUEST_MAX_SIZE'])
    install_client_ip(app, config['TRUSTED_PROXY_COUNT'])
    install_observability(app, config)
    install_security(app, config, also=request_id_header)  # after the blueprints: CORS mirrors their routes

    @app.before_server_start
    async def start(app: Sanic) -> None:
        os.makedirs(upload_path(config), exist_ok=True)
        await container.init_resources()
        app.ctx.store = await container.store()
        app.ctx.sessions = await container.session_store()
        await init_handler_services(container)
        wire_handlers(container, blueprints)
        app.ctx.tracing = container.tracing()  # a plain resource (no awaiting)
        metrics = container.metrics() if config['METRICS'] else None
        start_observing(app, config, app.ctx.tracing)
        app.ctx.sockets = SocketHub(config['WS_MAX_PER_USER'], config['WS_SEND_QUEUE'],
                                    metrics=metrics, tracing=app.ctx.tracing)
        app.ctx.unsubscribe = (await container.broker()).subscribe(app.ctx.sockets.deliver)
        if config['DB_CREATE_TABLES']:  # the path of `model create_tables`
            schema = await (await container.schema_migrations()).bring_to_head()
            logger.info('schema: %s', schema)
        if metrics is not None and in_multiprocess_mode():
            app.add_task(_sample(metrics), name='sample_metrics')

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        app.ctx.unsubscribe()
        if config['METRICS']:  # the last requests' numbers, into the multiprocess files
            container.metrics().sample()
        await container.shutdown_resources()
        Metrics.process_stopped(os.getpid())

    if settle:
        @app.after_server_start
        def settle_collector(app: Sanic) -> None:
            logger.info('garbage collector settled: %d objects frozen', settle_gc())

    if drain:
        @app.before_server_stop
        async def drain_listener(app: Sanic) -> None:
            """On SIGTERM Sanic closes the listening socket next, which resets the
            connections the kernel has completed but a busy loop has not accepted yet,
            requests included. A moment first lets the loop accept them; they are then
            served within GRACEFUL_SHUTDOWN_TIMEOUT like every request in flight."""
            await asyncio.sleep(drain)

    return app


async def _sample(metrics: Metrics) -> None:
    """A worker's numbers into the multiprocess files, for the worker that answers
    the next scrape (it samples its own at once)."""
    while True:
        metrics.sample()
        await asyncio.sleep(SAMPLE_INTERVAL)


def main() -> None:
    config = load_config()
    setup_logging(config)
    os.makedirs(config['DATA_PATH'], exist_ok=True)
    if config['METRICS'] and config['WORKERS'] > 1:
        prepare_multiprocess_dir(config['DATA_PATH'])  # before the workers start
    loader = AppLoader(factory=partial(create_app, config, drain=LISTEN_DRAIN, log=True,
                                       settle=True))
    app = loader.load()
    app.prepare(host=config['HOST'], port=config['PORT'], debug=config['DEBUG'],
                auto_reload=config['AUTO_RELOAD'], access_log=config['ACCESS_LOG'],
                workers=config['WORKERS'], single_process=config['WORKERS'] == 1,
                protocol=GuardedProtocol)
    if config['WORKERS'] == 1:
        Sanic.serve_single(primary=app)  # no worker manager: SIGTERM stops this process
    else:
        Sanic.serve(primary=app, app_loader=loader)


if __name__ == '__main__':
    main()
