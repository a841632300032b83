"""Configuration: defaults in code, every key overridable by an env var WG_<KEY>.

The embedded default (nothing set) is SQLite under DATA_PATH with sessions, verify
codes and pub/sub in process. WG_MYSQL_HOST switches the database to MySQL through
asyncmy (or aiomysql: MYSQL_DRIVER), WG_REDIS_URI the cache, sessions and pub/sub to Redis.
"""
import os
from typing import Any, Mapping

ENV_PREFIX = 'WG_'

# key: (type, default, description). None as a default means "not set".
SETTINGS: dict[str, tuple[type, Any, str]] = {
    'NAME': (str, 'weiguan', 'application name, used in logs and the session prefix'),
    'HOST': (str, '127.0.0.1', 'address the server listens on'),
    'PORT': (int, 8000, 'port the server listens on'),
    'DEBUG': (bool, False, 'debug mode: tracebacks in 500 responses'),
    'AUTO_RELOAD': (bool, False, 'reload the server when the code changes'),
    'WORKERS': (int, 1, 'number of server processes'),
    'ACCESS_LOG': (bool, True, 'log every request'),
    'LOG_LEVEL': (str, 'INFO', 'log level of the weiguan loggers'),
    'LOG_FORMAT': (str, 'text', 'format of every log line: text (one plain line) or json '
                                '(one JSON object a line; docs/observability.md)'),
    'DATA_PATH': (str, './data', 'folder of the SQLite file and the uploads'),
    'UPLOAD_DIR': (str, 'files', 'folder of the uploads, under DATA_PATH'),
    'UPLOAD_FILE_MAX_SIZE': (int, 50 * 1024 * 1024, 'largest uploaded file, bytes'),
    'UPLOAD_FILE_MAX_NUMBER': (int, 10, 'most files in one upload'),
    'UPLOAD_FILE_URL_BASE': (str, None, 'absolute URL prefix of the files (not set: '
                                        'http://HOST:PORT/files, 127.0.0.1 for a HOST of '
                                        '0.0.0.0 or ::)'),
    'THUMB_DIR': (str, 'thumbs', 'folder of the cached thumbnails, under DATA_PATH '
                                 '(apart from the uploads)'),
    'IMAGE_MAX_PIXELS': (int, 80_000_000, 'largest uploaded image, width x height '
                                          '(guards against decompression bombs)'),
    'VIDEO_PROBE_TIMEOUT': (int, 10, 'longest time reading an uploaded video\'s size and '
                                     'duration, seconds (a slower one is refused)'),
    'UPLOAD_ALLOW_OTHER_TYPES': (bool, False, 'accept files that are neither images nor '
                                              'videos (stored, served as downloads)'),
    'UPLOAD_STRIP_METADATA': (bool, True, 're-encode uploaded JPEG, PNG and WebP stills '
                                          'that carry metadata (EXIF GPS...), turned '
                                          'upright'),
    'REQUEST_MAX_SIZE': (int, 100 * 1024 * 1024,
                         'largest request body, bytes: the limit of uploads (POST '
                         '/storage/upload) and a ceiling for every route (a larger '
                         'one is a 413, refused before it is read)'),
    'JSON_BODY_MAX_SIZE': (int, 32 * 1024,
                           'largest body of every other route, bytes: the longest valid '
                           'request (a 1,000-character post escaped as \\uXXXX pairs) '
                           'is ~12 KB'),
    'HEADER_TIMEOUT': (int, 10, 'seconds the request line and headers may take from their '
                                'first byte (else 408)'),
    'BODY_TIMEOUT': (int, 30, 'longest pause in a request body, seconds (else 408)'),
    'KEEP_ALIVE_TIMEOUT': (int, 15, 'seconds a connection with no request in progress '
                                    'stays open'),
    'MAX_CONNECTIONS': (int, 0, 'connections per server process; at the cap the longest '
                                'idle one is closed for a new one. 0: the open-files '
                                'limit minus 128'),
    'SESSION_EXPIRY': (int, 30 * 24 * 3600, 'session lifetime from login, seconds '
                                             '(absolute)'),
    'SESSION_IDLE_EXPIRY': (int, 7 * 24 * 3600, 'a session unused this long ends, seconds'),
    'SESSION_REFRESH_INTERVAL': (int, 3600, 'least seconds between two writes of a '
                                            "session's last-use time"),
    'SESSION_COOKIE_NAME': (str, 'session', 'name of the session cookie'),
    'SESSION_COOKIE_SECURE': (bool, False, 'mark the session cookie Secure (HTTPS only)'),
    'SESSION_COOKIE_DOMAIN': (str, None, 'domain of the session cookie'),
    'MYSQL_HOST': (str, None, 'MySQL host; when set MySQL replaces SQLite'),
    'MYSQL_PORT': (int, 3306, 'MySQL port'),
    'MYSQL_DB': (str, 'weiguan', 'MySQL database'),
    'MYSQL_USER': (str, 'root', 'MySQL user'),
    'MYSQL_PASSWORD': (str, '', 'MySQL password'),
    'MYSQL_DRIVER': (str, 'asyncmy', 'MySQL driver: asyncmy (its protocol in Cython, a '
                                     'fraction of the CPU a statement) or aiomysql (pure '
                                     'Python)'),
    'MYSQL_POOL_SIZE': (int, 10, 'connections kept per server process by the engine; '
                        'the two driver pools (prepared reads, prepared '
                        'transactions) open up to size + overflow each, on demand'),
    'MYSQL_POOL_MAX_OVERFLOW': (int, 10, 'extra connections allowed under load'),
    'MYSQL_TIMEOUT': (int, 10, 'seconds one database transaction or read may take '
                               'before its request answers 503 (a network partition '
                               'would otherwise hang it); 0: no limit'),
    'SQLITE_FILE': (str, 'weiguan.db', 'SQLite file name, under DATA_PATH'),
    'REDIS_URI': (str, None, 'Redis URI; when set Redis replaces the in-process stores'),
    'DB_CREATE_TABLES': (bool, None, 'bring the schema to the newest migration at start-up, '
                                     'as `model create_tables` does (default: on for '
                                     'SQLite, off for MySQL)'),
    'VERIFY_CODE_ECHO': (bool, True, 'development only: echo verify codes in the response, '
                                     'and log those of a channel with no sender (off: such '
                                     'a send is refused, and no code is ever logged)'),
    'SMTP_HOST': (str, None, 'SMTP server of the verify-code mails; not set: no email channel'),
    'SMTP_PORT': (int, 587, 'SMTP port'),
    'SMTP_USER': (str, None, 'SMTP login (not set: none)'),
    'SMTP_PASSWORD': (str, None, 'SMTP password'),
    'SMTP_FROM': (str, 'weiguan@localhost', 'sender address of the verify-code mails'),
    'SMTP_STARTTLS': (bool, True, 'upgrade the SMTP connection with STARTTLS (required)'),
    'SMS_WEBHOOK_URL': (str, None, 'URL the verify-code SMS are POSTed to as JSON {mobile, '
                                   'code, text} (a relay to any SMS provider); not set: no '
                                   'SMS channel'),
    'SMS_WEBHOOK_TOKEN': (str, None, 'bearer token sent to the SMS webhook (not set: none)'),
    'VERIFY_CODE_DELIVERY_TIMEOUT': (int, 10, 'seconds a mail or webhook delivery may take '
                                              'before the send answers 503'),
    'VERIFY_CODE_TTL': (int, 300, 'seconds a verify code stays valid'),
    'VERIFY_CODE_RESEND_INTERVAL': (int, 60, 'seconds between two sends to one target'),
    'VERIFY_CODE_MAX_TRIES': (int, 5, 'wrong tries that void a verify code'),
    # Rate limits: at most N events per window of W seconds per subject; N = 0: none.
    'RATE_LOGIN_FAILURES_PER_IP': (int, 10, 'failed logins from one client IP per window'),
    'RATE_LOGIN_FAILURES_PER_ACCOUNT': (int, 20, 'failed logins on one account per window '
                                                 '(above the per-IP limit, so one IP alone '
                                                 'cannot lock the owner out)'),
    'RATE_LOGIN_WINDOW': (int, 300, 'window of the login limits, seconds'),
    'RATE_REGISTER_PER_IP': (int, 10, 'registrations from one client IP per window'),
    'RATE_REGISTER_WINDOW': (int, 3600, 'window of the registration limit, seconds'),
    'RATE_VERIFY_CODE_PER_IP': (int, 20, 'verify codes sent for one client IP per window '
                                         '(beside one per target per resend interval)'),
    'RATE_VERIFY_CODE_WINDOW': (int, 3600, 'window of the verify code limit, seconds'),
    'RATE_UPLOAD_PER_USER': (int, 120, 'upload requests of one user per window'),
    'RATE_UPLOAD_WINDOW': (int, 3600, 'window of the upload limit, seconds'),
    'TRUSTED_PROXY_COUNT': (int, 0, 'reverse proxies in front of the server: the client IP '
                                    'is the X-Forwarded-For entry this many hops from the '
                                    'right; 0: the socket peer, the header is ignored'),
    'CORS_ORIGINS': (str, '', 'comma-separated origins allowed to call the API from a '
                              'browser with credentials (empty: no CORS)'),
    'WS_MAX_FRAME_SIZE': (int, 4096, 'largest WebSocket frame a client may send, bytes '
                                     '(a chat line: 1,000 characters of 4-byte UTF-8); '
                                     'a larger one closes the socket with 1009'),
    'WS_SEND_QUEUE': (int, 64, 'messages queued for one socket; a socket further behind '
                               'is closed with 1008'),
    'WS_MAX_PER_USER': (int, 10, 'message sockets one user may hold per server process'),
    'WS_SESSION_CHECK_INTERVAL': (float, 30.0, 'seconds between two checks that an open '
                                               "socket's session is still valid (a password "
                                               'change, a disable or a reset ends it)'),
    'IDEMPOTENCY_TTL': (int, 24 * 3600, 'seconds the first answer to an Idempotency-Key '
                                         'is kept and replayed (register, publish, '
                                         'upload)'),
    'FEED_MAX_ITEMS': (int, 800, 'post ids kept in each home feed; the home timeline ends '
                                 'at the oldest of them'),
    'FEED_ACTIVE_DAYS': (int, 30, 'a feed unread this many days expires: no fan-out to it, '
                                  'rebuilt from the database at its next read'),
    'FANOUT_MAX_FOLLOWERS': (int, 10_000, 'authors with more followers are not fanned out: '
                                          'their posts are merged into pages at read'),
    'FANOUT_BATCH_SIZE': (int, 1000, 'followers read and fed per pipeline by a fan-out job'),
    'FANOUT_BATCHES_IN_FLIGHT': (int, 1, 'fan-out and clean pipelines one process has in '
                                         'Redis at once, whatever its jobs (more only '
                                         'delay the servers\' commands)'),
    'STAT_INTERVAL': (int, 60, 'seconds between two stats reconcile runs'),
    'WORKER_CONCURRENCY': (int, 10, 'jobs one `worker run` process runs at once'),
    'WORKER_NICE': (int, 10, 'niceness `worker run` adds to itself, so servers sharing '
                             'its CPUs answer first (0: none)'),
    'JOB_RETRIES': (int, 3, 'retries of a failed job before it is given up'),
    'JOB_RETRY_DELAY': (float, 1.0, 'seconds before the first retry of a failed job, '
                                    'doubling with each retry'),
    'JOB_REDELIVERY_TIMEOUT': (int, 30, 'seconds without a heartbeat after which a job '
                                        'of a dead worker is given to another (Redis)'),
    'CACHE_TTL': (int, 3600, 'seconds a cached profile or file row lives (Redis, or the '
                             'process on the embedded default)'),
    'CACHE_MAX_ENTRIES': (int, 20000, 'entries each per-process cache holds (post bodies, '
                                      'decoded cache entries; profiles and files too on the '
                                      'embedded default)'),
    'TRACING_EXPORTER': (str, 'none', 'where spans go: none (no tracing at all), zipkin, '
                                      'otlp (OTLP over HTTP) or console'),
    'TRACING_ENDPOINT': (str, None, 'the Zipkin v2 spans URL or the OTLP/HTTP traces URL '
                                    '(default: the exporter\'s, on localhost)'),
    'TRACING_SAMPLE_RATIO': (float, 1.0, 'share of new traces sampled, 0 to 1 (a caller\'s '
                                         'sampling decision is followed)'),
    'METRICS': (bool, True, 'serve Prometheus metrics at GET /metrics'),
    'METRICS_PORT': (int, 0, 'port of the scheduler\'s or the worker\'s own /metrics '
                             'endpoint (the server uses its own port); 0: none'),
}

LOG_FORMATS = ('text', 'json')
TRACING_EXPORTERS = ('none', 'zipkin', 'otlp', 'console')
MYSQL_DRIVERS = ('asyncmy', 'aiomysql')
# Sizes that mean nothing at 0 (a cache bound of 0 would be no bound at all)
AT_LEAST_ONE = ('CACHE_MAX_ENTRIES', 'FEED_MAX_ITEMS', 'FANOUT_BATCH_SIZE',
                'FANOUT_BATCHES_IN_FLIGHT', 'WORKER_CONCURRENCY',
                'WS_SEND_QUEUE', 'WS_MAX_FRAME_SIZE')

_TRUE = {'1', 'true', 'yes', 'on'}
_FALSE = {'0', 'false', 'no', 'off', ''}


class ConfigError(ValueError):
    pass


def _parse(key: str, kind: type, raw: str) -> Any:
    if kind is bool:
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(f'{ENV_PREFIX}{key}: expected true or false, got {raw!r}')
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f'{ENV_PREFIX}{key}: expected an integer, got {raw!r}') from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f'{ENV_PREFIX}{key}: expected a number, got {raw!r}') from None
    return raw


def _check_values(config: Mapping[str, Any]) -> None:
    for key, choices in (('LOG_FORMAT', LOG_FORMATS), ('TRACING_EXPORTER', TRACING_EXPORTERS),
                         ('MYSQL_DRIVER', MYSQL_DRIVERS)):
        if config[key] not in choices:
            raise ConfigError(f'{ENV_PREFIX}{key}: expected one of {", ".join(choices)}, '
                              f'got {config[key]!r}')
    for key in AT_LEAST_ONE:
        if config[key] < 1:
            raise ConfigError(f'{ENV_PREFIX}{key}: expected at least 1, got {config[key]!r}')
    if not 0 <= config['TRACING_SAMPLE_RATIO'] <= 1:
        raise ConfigError(f'{ENV_PREFIX}TRACING_SAMPLE_RATIO: expected a number from 0 to 1, '
                          f'got {config["TRACING_SAMPLE_RATIO"]!r}')


def load_config(env: Mapping[str, str] | None = None,
                **overrides: Any) -> dict[str, Any]:
    """Defaults, then WG_* variables from `env` (os.environ by default), then overrides."""
    env = os.environ if env is None else env
    config = {key: default for key, (_, default, _) in SETTINGS.items()}
    for key, (kind, _, _) in SETTINGS.items():
        if ENV_PREFIX + key in env:
            config[key] = _parse(key, kind, env[ENV_PREFIX + key])
    unknown = set(overrides) - set(SETTINGS)
    if unknown:
        raise ConfigError(f'unknown config keys: {sorted(unknown)}')
    config.update(overrides)
    _check_values(config)
    if config['DB_CREATE_TABLES'] is None:
        config['DB_CREATE_TABLES'] = not config['MYSQL_HOST']
    if config['UPLOAD_FILE_URL_BASE'] is None:
        config['UPLOAD_FILE_URL_BASE'] = default_url_base(config)
    config['DB_URL'] = database_url(config)
    return config


def default_url_base(config: Mapping[str, Any]) -> str:
    """Where this server answers /files: its own address and port (a wildcard
    address is not one a client can reach; behind a proxy set the variable)."""
    host = config['HOST']
    host = '127.0.0.1' if host in ('0.0.0.0', '::', '') else host
    host = f'[{host}]' if ':' in host else host
    return f"http://{host}:{config['PORT']}/files"


def database_url(config: Mapping[str, Any]) -> str:
    if config['MYSQL_HOST']:
        from urllib.parse import quote_plus
        return 'mysql+{}://{}:{}@{}:{}/{}?charset=utf8mb4'.format(
            config['MYSQL_DRIVER'], quote_plus(config['MYSQL_USER']), quote_plus(config['MYSQL_PASSWORD']),
            config['MYSQL_HOST'], config['MYSQL_PORT'], config['MYSQL_DB'])
    path = os.path.join(config['DATA_PATH'], config['SQLITE_FILE'])
    return f'sqlite+aiosqlite:///{os.path.abspath(path)}'


def upload_path(config: Mapping[str, Any]) -> str:
    return os.path.abspath(os.path.join(config['DATA_PATH'], config['UPLOAD_DIR']))


def thumb_path(config: Mapping[str, Any]) -> str:
    return os.path.abspath(os.path.join(config['DATA_PATH'], config['THUMB_DIR']))
