"""One log format for every logger of the process: ours, Sanic's (access, start-up,
errors), APScheduler's and any library's. LOG_FORMAT=text writes one plain line a
record; LOG_FORMAT=json one JSON object a line (python-json-logger) with `time`,
`level`, `logger` and `message`, a traceback included as one string.

Every logger propagates to the root logger, which holds the one handler. Its
ContextFilter adds the fields of the moment the line is written: the web layer adds
the request id and user id, tracing the trace and span ids. Each is read only when
a line is written, so a request that logs nothing pays nothing."""
import logging
import logging.config
import sys
from typing import Any, Callable, Mapping

from pythonjsonlogger.json import JsonFormatter

# The fields one provider gives for the line being written (none: an empty dict).
ContextProvider = Callable[[], Mapping[str, Any]]
CONTEXT_KEYS = ('request_id', 'user_id', 'trace_id', 'span_id')

TEXT_FORMAT = '%(asctime)s %(levelname)s %(process)d %(name)s%(context)s: %(message)s'
JSON_FORMAT = '%(levelname)s %(name)s %(message)s'


class ContextFilter(logging.Filter):
    """Adds the providers' fields to each record, and gives Sanic's access lines
    (an empty message with the request in its extras) a message of their own."""

    def __init__(self):
        super().__init__()
        self.providers: list[ContextProvider] = []

    def filter(self, record: logging.LogRecord) -> bool:
        context: dict[str, object] = {}
        for provider in self.providers:
            context.update(provider())
        for key, value in context.items():
            setattr(record, key, value)
        record.context = ''.join(f' {key}={value}' for key, value in context.items())
        if record.name == 'sanic.access' and not record.msg:
            record.msg = '{} {} {}{}'.format(
                getattr(record, 'request', '-'), getattr(record, 'status', '-'),
                getattr(record, 'byte', '-'), getattr(record, 'duration', ''))
        return True


class OneLineJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with the keys named as the docs say."""

    def __init__(self):
        super().__init__(JSON_FORMAT, timestamp='time',
                         rename_fields={'levelname': 'level', 'name': 'logger',
                                        'exc_info': 'traceback'},
                         reserved_attrs=[*JsonFormatter().reserved_attrs, 'context'])


def logging_config(config: Mapping[str, Any], context: ContextFilter) -> dict:
    """The dictConfig of the whole process (Sanic's own configuration is not used)."""
    formatter = ({'()': OneLineJsonFormatter} if config['LOG_FORMAT'] == 'json'
                 else {'format': TEXT_FORMAT})
    level = config['LOG_LEVEL']
    own = {'level': level, 'handlers': [], 'propagate': True}
    return {
        'version': 1,
        'disable_existing_loggers': False,
        'formatters': {'line': formatter},
        'filters': {'context': {'()': lambda: context}},
        'handlers': {'console': {'class': 'logging.StreamHandler', 'formatter': 'line',
                                 'filters': ['context'], 'stream': sys.stderr}},
        'root': {'level': 'WARNING', 'handlers': ['console']},
        'loggers': {
            'weiguan': own,
            'sanic.root': {**own, 'level': 'INFO'},
            'sanic.error': {**own, 'level': 'INFO'},
            'sanic.access': {**own, 'level': 'INFO'},
            'sanic.server': {**own, 'level': 'INFO'},
            'sanic.websockets': {**own, 'level': 'WARNING'},
            'apscheduler': {**own, 'level': 'INFO'},
        },
    }


def configure_logging(config: Mapping[str, Any]) -> ContextFilter:
    """Apply the configuration; the returned filter takes context providers.
    Warnings and uncaught exceptions become log records too."""
    context = ContextFilter()
    logging.config.dictConfig(logging_config(config, context))
    logging.captureWarnings(True)
    if config['LOG_FORMAT'] == 'json':
        def log_uncaught(kind, error, tb) -> None:
            logging.getLogger('weiguan').critical('uncaught exception',
                                                  exc_info=(kind, error, tb))
        sys.excepthook = log_uncaught
    return context
