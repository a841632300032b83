import os
import importlib.util
import re
from pathlib import Path

import pytest

from weiguan.config import SETTINGS, ConfigError, database_url, load_config, upload_path


def test_defaults_are_the_embedded_mode():
    config = load_config(env={})
    for key, (_, default, _) in SETTINGS.items():
        if key not in ('DB_CREATE_TABLES', 'UPLOAD_FILE_URL_BASE'):  # derived when not set
            assert config[key] == default, key
    assert config['MYSQL_HOST'] is None and config['REDIS_URI'] is None
    assert config['DB_CREATE_TABLES'] is True
    assert config['DB_URL'].startswith('sqlite+aiosqlite:///')
    assert config['DB_URL'].endswith(os.path.join('data', 'weiguan.db'))
    assert config['HOST'] == '127.0.0.1' and config['PORT'] == 8000


def test_every_setting_has_a_type_default_and_description():
    for key, (kind, default, description) in SETTINGS.items():
        assert key.isupper(), key
        assert kind in (str, int, float, bool), key
        assert default is None or isinstance(default, kind), key
        assert description.strip(), key


def test_observability_settings_parse_and_are_checked():
    config = load_config(env={'WG_TRACING_SAMPLE_RATIO': '0.25', 'WG_LOG_FORMAT': 'json',
                              'WG_TRACING_EXPORTER': 'otlp'})
    assert (config['TRACING_SAMPLE_RATIO'], config['LOG_FORMAT'],
            config['TRACING_EXPORTER']) == (0.25, 'json', 'otlp')
    for env, named in (({'WG_TRACING_SAMPLE_RATIO': 'half'}, 'a number'),
                       ({'WG_TRACING_SAMPLE_RATIO': '1.5'}, 'from 0 to 1'),
                       ({'WG_LOG_FORMAT': 'xml'}, 'text, json'),
                       ({'WG_TRACING_EXPORTER': 'jaeger'}, 'none, zipkin, otlp, console')):
        with pytest.raises(ConfigError, match=named):
            load_config(env=env)


def test_env_vars_override_with_types():
    config = load_config(env={'WG_PORT': '9001', 'WG_DEBUG': 'yes', 'WG_ACCESS_LOG': 'off',
                              'WG_NAME': 'other', 'WG_UNRELATED': 'x', 'PORT': '1'})
    assert config['PORT'] == 9001
    assert config['DEBUG'] is True
    assert config['ACCESS_LOG'] is False
    assert config['NAME'] == 'other'
    assert 'UNRELATED' not in config


@pytest.mark.parametrize('raw, expected', [('1', True), ('TRUE', True), (' on ', True),
                                           ('0', False), ('no', False), ('', False)])
def test_bool_spellings(raw, expected):
    assert load_config(env={'WG_DEBUG': raw})['DEBUG'] is expected


@pytest.mark.parametrize('key, raw', [('DEBUG', 'maybe'), ('PORT', 'eighty'),
                                      ('SESSION_EXPIRY', '1.5')])
def test_bad_env_values_name_the_variable(key, raw):
    with pytest.raises(ConfigError, match='WG_' + key):
        load_config(env={'WG_' + key: raw})


@pytest.mark.parametrize('key', ['CACHE_MAX_ENTRIES', 'FEED_MAX_ITEMS', 'WORKER_CONCURRENCY'])
def test_sizes_below_one_are_refused(key):
    with pytest.raises(ConfigError, match=f'WG_{key}: expected at least 1, got 0'):
        load_config(env={'WG_' + key: '0'})


def test_overrides_win_over_env_and_unknown_keys_are_refused():
    config = load_config(env={'WG_PORT': '9001'}, PORT=9002)
    assert config['PORT'] == 9002
    with pytest.raises(ConfigError, match='NOPE'):
        load_config(env={}, NOPE=1)


def test_mysql_host_switches_the_database_and_table_creation_default():
    config = load_config(env={'WG_MYSQL_HOST': 'db.example', 'WG_MYSQL_PORT': '3307',
                              'WG_MYSQL_USER': 'we@guan', 'WG_MYSQL_PASSWORD': 'p:w/d',
                              'WG_MYSQL_DB': 'wg'})
    assert config['DB_URL'] == \
        'mysql+asyncmy://we%40guan:p%3Aw%2Fd@db.example:3307/wg?charset=utf8mb4'
    assert config['DB_CREATE_TABLES'] is False
    forced = load_config(env={'WG_MYSQL_HOST': 'db', 'WG_DB_CREATE_TABLES': 'true'})
    assert forced['DB_CREATE_TABLES'] is True


def test_mysql_driver_is_asyncmy_or_aiomysql():
    config = load_config(env={'WG_MYSQL_HOST': 'db', 'WG_MYSQL_DRIVER': 'aiomysql'})
    assert config['DB_URL'].startswith('mysql+aiomysql://root:@db:3306/')
    with pytest.raises(ConfigError, match='MYSQL_DRIVER: expected one of asyncmy, aiomysql'):
        load_config(env={'WG_MYSQL_DRIVER': 'mysqldb'})


def test_sqlite_file_and_upload_path_live_under_data_path(tmp_path):
    config = load_config(env={'WG_DATA_PATH': str(tmp_path), 'WG_SQLITE_FILE': 'x.db'})
    assert database_url(config) == f'sqlite+aiosqlite:///{tmp_path / "x.db"}'
    assert upload_path(config) == str(tmp_path / 'files')


def test_redis_uri_is_read_from_env():
    config = load_config(env={'WG_REDIS_URI': 'redis://cache:6379/3'})
    assert config['REDIS_URI'] == 'redis://cache:6379/3'



def _load_config_table():
    path = Path(__file__).resolve().parents[2] / 'scripts' / 'config_table.py'
    spec = importlib.util.spec_from_file_location('config_table', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


config_table = _load_config_table()


def test_readme_documents_every_setting():
    readme = (Path(__file__).resolve().parents[2] / 'README.md').read_text()
    missing = [key for key in SETTINGS if f'| `WG_{key}` |' not in readme]
    assert not missing, f'README.md configuration table lacks {missing}'
    # and says what the code says: regenerate with scripts/config_table.py
    assert config_table.table() in readme


def test_readme_opens_with_the_two_setup_commands():
    readme = (Path(__file__).resolve().parents[2] / 'README.md').read_text()
    blocks = re.findall(r'```sh\n(.*?)```', readme, re.S)
    assert blocks[0].strip() == ('python3 -m venv .venv && .venv/bin/pip install -r '
                                 'requirements.txt && .venv/bin/python -m weiguan.web.app')
    assert blocks[1].strip() == 'bash scripts/test'
    assert readme.index('```sh') < readme.index('\n## ')


def test_the_file_url_base_follows_host_and_port_unless_set():
    assert load_config(env={})['UPLOAD_FILE_URL_BASE'] == 'http://127.0.0.1:8000/files'
    assert load_config(env={'WG_PORT': '8123'})['UPLOAD_FILE_URL_BASE'] == \
        'http://127.0.0.1:8123/files'
    assert load_config(env={'WG_HOST': '10.0.0.5', 'WG_PORT': '9000'})[
        'UPLOAD_FILE_URL_BASE'] == 'http://10.0.0.5:9000/files'
    # A wildcard address is not one to hand to clients.
    assert load_config(env={'WG_HOST': '0.0.0.0'})['UPLOAD_FILE_URL_BASE'] == \
        'http://127.0.0.1:8000/files'
    assert load_config(env={'WG_HOST': '::1'})['UPLOAD_FILE_URL_BASE'] == \
        'http://[::1]:8000/files'
    explicit = {'WG_PORT': '8123', 'WG_UPLOAD_FILE_URL_BASE': 'https://cdn.example/f'}
    assert load_config(env=explicit)['UPLOAD_FILE_URL_BASE'] == 'https://cdn.example/f'


def test_an_old_python_stops_with_a_clear_message(capsys):
    import pytest
    from weiguan.runtime import check_python
    with pytest.raises(SystemExit) as stopped:
        check_python((3, 10, 12))
    assert 'weiguan needs Python 3.11 or newer; this is Python 3.10.12' in str(stopped.value)
    check_python((3, 11, 0))  # fine
    check_python((3, 13, 1))


def test_pyproject_declares_the_python_the_check_wants():
    import tomllib
    from pathlib import Path
    from weiguan.runtime import REQUIRED
    project = tomllib.loads((Path(__file__).resolve().parents[2] / 'pyproject.toml').read_text())
    assert project['project']['requires-python'] == '>=%d.%d' % REQUIRED
