"""What the long-running commands (`schedule run`, `worker run`) do before their loop:
SIGINT and SIGTERM set their stop event, and their own /metrics is served."""
import asyncio
import logging
import signal

log = logging.getLogger(__name__)


def start_serving(stop: asyncio.Event | None, metrics,
                  metrics_address: tuple[str, int] | None) -> asyncio.Event:
    """The stop event (`stop`, or a new one) that the signals set."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if metrics is not None and metrics_address:
        host, port = metrics_address
        metrics.serve(host, port)
        log.info('metrics on http://%s:%d/metrics', host, port)
    return stop
