"""docker-compose.yml and the Dockerfile against the code: every WG_* variable they
set is a real setting, every CLI command they run exists, and docker-compose itself
accepts the file (when its binary is installed)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from weiguan.cli.app import commands
from weiguan.config import SETTINGS, load_config
from weiguan.container import build_container

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / 'docker-compose.yml'
DOCKERFILE = ROOT / 'Dockerfile'
CLI = re.compile(r'-m\s+weiguan\.cli\.app((?:\s+[A-Za-z_][\w-]*)*)')


@pytest.fixture(scope='module')
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def environment(service: dict) -> dict[str, str]:
    env = service.get('environment') or {}
    if isinstance(env, list):
        env = dict(item.partition('=')[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def command_text(service: dict) -> str:
    command = service.get('command') or ''
    return command if isinstance(command, str) else ' '.join(map(str, command))


def cli_invocations(text: str) -> list[list[str]]:
    """[group, command, ...] of every `python -m weiguan.cli.app ...` in a command."""
    return [m.group(1).split() for m in CLI.finditer(text)]


def test_the_stack_has_its_six_services(compose):
    assert set(compose['services']) >= {'migrate', 'server', 'scheduler', 'worker', 'mysql',
                                        'redis'}


def test_every_wg_variable_is_a_setting(compose):
    seen = set()
    for name, service in compose['services'].items():
        for key in environment(service):
            if key.startswith('WG_'):
                assert key[3:] in SETTINGS, f'{name}: {key} is not a setting'
                seen.add(key)
    for key in re.findall(r'\b(WG_[A-Z_]+)=', DOCKERFILE.read_text()):
        assert key[3:] in SETTINGS, f'Dockerfile: {key} is not a setting'
    assert {'WG_MYSQL_HOST', 'WG_REDIS_URI'} <= seen


def test_every_wg_value_parses(compose):
    for _name, service in compose['services'].items():
        env = {k: v for k, v in environment(service).items() if k.startswith('WG_')}
        env = {k: re.sub(r'\$\{[^:}]+:-([^}]*)\}', r'\1', v) for k, v in env.items()}
        env = {k: re.sub(r'\$\{[^:}]+:\?[^}]*\}', 'a-password', v) for k, v in env.items()}
        load_config(env=env)  # raises ConfigError naming a bad value


def test_production_settings(compose):
    for name in ('server', 'scheduler', 'worker'):
        env = environment(compose['services'][name])
        assert env['WG_DEBUG'] == 'false'
        assert env['WG_VERIFY_CODE_ECHO'] == 'false'
        assert env['WG_MYSQL_HOST'] == 'mysql'
        assert env['WG_REDIS_URI'].startswith('redis://redis:')
        assert 'WG_UPLOAD_FILE_URL_BASE' in env
    assert environment(compose['services']['server'])['WG_HOST'] == '0.0.0.0'


def test_every_cli_command_exists(compose, tmp_path):
    groups = commands(build_container(load_config(env={}, DATA_PATH=str(tmp_path))))
    invocations = [(name, argv) for name, service in compose['services'].items()
                   for argv in cli_invocations(command_text(service))]
    assert invocations, 'the stack runs no CLI command'
    for name, argv in invocations:
        assert len(argv) >= 2, f'{name}: incomplete CLI command {argv}'
        group, command = argv[:2]
        assert group in groups, f'{name}: no CLI group {group!r}'
        assert callable(getattr(groups[group], command, None)), \
            f'{name}: no CLI command {group} {command}'


def test_the_scheduler_runs_the_schedule(compose):
    assert cli_invocations(command_text(compose['services']['scheduler'])) == \
        [['schedule', 'run']]


def test_the_worker_consumes_the_queue_and_scales_out(compose):
    """`docker compose up --scale worker=3`: replicas need no fixed name and no fixed
    host port (either would clash), and all of them share the one Redis queue."""
    worker = compose['services']['worker']
    assert cli_invocations(command_text(worker)) == [['worker', 'run']]
    assert worker['image'] == compose['services']['server']['image']  # the same image
    assert 'container_name' not in worker
    for port in worker.get('ports') or []:
        assert ':' not in str(port), f'a fixed host port cannot scale: {port}'
    env = environment(worker)
    assert env['WG_REDIS_URI'] == environment(compose['services']['server'])['WG_REDIS_URI']
    assert env['WG_METRICS_PORT'] != '0'  # its own /metrics, on the compose network
    assert worker['depends_on']['server']['condition'] == 'service_healthy'  # migrated
    assert worker.get('restart') == 'unless-stopped'


def test_the_schema_is_upgraded_before_the_server_starts(compose):
    services = compose['services']
    assert cli_invocations(command_text(services['migrate'])) == [['model', 'create_tables']]
    assert services['migrate']['depends_on']['mysql']['condition'] == 'service_healthy'
    assert services['migrate'].get('restart') in (None, 'no')  # one shot
    for name in ('server', 'scheduler', 'worker'):
        after = services['server']['depends_on']['migrate']['condition'] if name == 'server' \
            else services[name]['depends_on']['server']['condition']
        assert after in ('service_completed_successfully', 'service_healthy'), name
    assert services['server']['depends_on']['migrate']['condition'] == \
        'service_completed_successfully'
    assert 'create_tables' not in command_text(services['server'])


def test_database_passwords_are_required(compose):
    """`${VAR:?message}`: docker-compose refuses to start without them, rather than
    using a password written in this file."""
    text = COMPOSE.read_text()
    assert 'change-me' not in text
    mysql = environment(compose['services']['mysql'])
    for value in (mysql['MARIADB_PASSWORD'], mysql['MARIADB_ROOT_PASSWORD'],
                  environment(compose['services']['server'])['WG_MYSQL_PASSWORD']):
        assert re.fullmatch(r'\$\{MARIADB_(ROOT_)?PASSWORD:\?.+\}', value), value


def test_app_services_wait_for_healthy_backends(compose):
    services = compose['services']
    for name in ('mysql', 'redis', 'server'):
        assert services[name].get('healthcheck', {}).get('test'), name
    for name in ('server', 'scheduler', 'worker'):
        depends = services[name]['depends_on']
        for backend in ('mysql', 'redis'):
            assert depends[backend]['condition'] == 'service_healthy', (name, backend)


def test_the_server_may_open_enough_files(compose):
    """The server caps its connections at the open-files limit minus 128: the
    default 1,024 left room for fewer than 900 idle connections."""
    nofile = compose['services']['server']['ulimits']['nofile']
    assert min(nofile['soft'], nofile['hard']) >= 65536


def test_mariadb_uses_utf8mb4(compose):
    mysql = compose['services']['mysql']
    assert 'mariadb' in mysql['image']
    assert '--character-set-server=utf8mb4' in command_text(mysql)


def test_dockerfile():
    text = DOCKERFILE.read_text()
    assert re.search(r'^FROM python:3\.11-slim', text, re.M)
    lines = [line.strip() for line in text.splitlines()]
    requirements = lines.index('COPY requirements.txt .')
    install = next(i for i, line in enumerate(lines) if line.startswith('RUN pip install'))
    everything = lines.index('COPY . .')
    assert requirements < install < everything  # dependencies cached apart from the code
    assert 'EXPOSE 8000' in lines
    assert 'WG_HOST=0.0.0.0' in text
    assert lines[-1] == 'CMD ["python", "-u", "-m", "weiguan.web.app"]'
    assert not re.search(r'(COPY|pip install).*requirements-dev', text)  # runtime only
    joined = text.replace('\\\n', ' ')  # continuation lines
    assert re.search(r'^HEALTHCHECK .*CMD \["python", "-c", .*/health', joined, re.M)
    assert 'CMD curl' not in joined and '"curl"' not in joined  # not in the slim image


def test_the_image_carries_no_tests_and_no_test_tools():
    ignored = {line.strip() for line in (ROOT / '.dockerignore').read_text().splitlines()}
    assert {'tests', 'bench', 'requirements-dev.txt'} <= ignored
    runtime = (ROOT / 'requirements.txt').read_text()
    for tool in ('pytest', 'schemathesis', 'aiosmtpd', 'sanic-testing'):
        assert tool not in runtime
    dev = (ROOT / 'requirements-dev.txt').read_text().splitlines()
    assert '-r requirements.txt' in dev and any(line.startswith('pytest==') for line in dev)
    for line in runtime.splitlines():
        assert line.startswith('#') or re.fullmatch(r'[A-Za-z0-9_.\[\]-]+==[\w.]+', line), line


@pytest.mark.skipif(shutil.which('docker-compose') is None,
                    reason='docker-compose is not installed (apt-get install docker-compose)')
def test_docker_compose_refuses_to_start_without_passwords():
    env = {k: v for k, v in os.environ.items() if k not in ('MARIADB_PASSWORD',
                                                            'MARIADB_ROOT_PASSWORD')}
    result = subprocess.run(['docker-compose', '-f', str(COMPOSE), 'config', '-q'],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0
    assert 'MARIADB_PASSWORD' in result.stderr


@pytest.mark.skipif(shutil.which('docker-compose') is None,
                    reason='docker-compose is not installed (apt-get install docker-compose)')
def test_docker_compose_accepts_the_file():
    env = {**os.environ, 'MARIADB_PASSWORD': 'p', 'MARIADB_ROOT_PASSWORD': 'r'}
    result = subprocess.run(['docker-compose', '-f', str(COMPOSE), 'config', '-q'],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
