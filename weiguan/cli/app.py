"""The CLI: python -m weiguan.cli.app <group> <command> [args]

Each command runs in one event loop that also initialises and closes the
container's resources (Fire would otherwise run the coroutine in a loop of its own,
after the resources were bound to another)."""
from ..runtime import check_python

check_python()

import asyncio
import functools
import inspect
import os
import sys
from typing import Callable

import fire

from ..config import ConfigError, load_config
from ..container import Container, build_container
from ..dependencies.logs import configure_logging
from ..dependencies.tracing import Tracing
from ..entities import messages
from ..entities.errors import AppError

GROUPS = {'model': 'model_command', 'schedule': 'schedule_command', 'user': 'user_command',
          'files': 'files_command', 'worker': 'worker_command'}


async def _invoke(container: Container, provider: str, name: str, args, kwargs):
    await container.init_resources()
    try:
        command = await getattr(container, provider)()
        return await getattr(command, name)(*args, **kwargs)
    finally:
        await container.shutdown_resources()


def _group(container: Container, provider: str) -> object:
    """An object Fire can walk: the command class's public methods, each running
    in its own loop with the resources set up."""
    cls = getattr(Container, provider).cls
    group = type(cls.__name__, (), {'__doc__': cls.__doc__})()
    for name, method in inspect.getmembers(cls, inspect.iscoroutinefunction):
        if name.startswith('_'):
            continue

        @functools.wraps(method)
        def run(*args, _name=name, **kwargs):
            return asyncio.run(_invoke(container, provider, _name, args, kwargs))
        run.__signature__ = inspect.signature(method).replace(
            parameters=list(inspect.signature(method).parameters.values())[1:])
        setattr(group, name, run)
    return group


# Groups whose arguments are text whatever they look like: Fire would read a mobile
# '+8613800000000' as a number (losing the +) and a password '1e10' as a float.
TEXT_GROUPS = {'user'}


def as_text(argv: list[str]) -> list[str]:
    """The arguments with every option value quoted as a Python string literal,
    which Fire then reads back unchanged."""
    if not argv or argv[0] not in TEXT_GROUPS:
        return argv
    quoted, value_next = [], False
    for token in argv:
        if token.startswith('--') and '=' in token:
            name, _, value = token.partition('=')
            token = f'{name}={value!r}'
            value_next = False
        elif token.startswith('--'):
            value_next = token not in ('--help', '--')
        elif value_next:
            token, value_next = repr(token), False
        quoted.append(token)
    return quoted


def commands(container: Container) -> dict[str, object]:
    return {group: _group(container, provider) for group, provider in GROUPS.items()}


def failure_line(error: Exception) -> str:
    """One line for the terminal: the error's message and the first line of its cause."""
    message = getattr(error, 'message', None) or str(error)
    cause = error.__cause__
    # An error translated from another of ours already says it all.
    cause = '' if isinstance(cause, AppError) else str(cause or '').strip().splitlines()
    if cause:
        return messages.CLI_FAILED_BECAUSE.format(message=message, cause=cause[0])
    return messages.CLI_FAILED.format(message=message)


def main(argv: list[str] | None = None,
         prepare: Callable[[Container], None] | None = None) -> None:
    """(`prepare`: changes the container before it is used: a test harness that
    registers its own jobs.)"""
    try:
        config = load_config()
        context = configure_logging(config)
        if config['TRACING_EXPORTER'] != 'none':  # the job spans' ids in their lines
            context.providers.append(Tracing.log_context)
        os.makedirs(config['DATA_PATH'], exist_ok=True)  # the SQLite file lives there
        container = build_container(config)
        if prepare is not None:
            prepare(container)
        fire.Fire(commands(container), command=as_text(sys.argv[1:] if argv is None else argv),
                  name='weiguan.cli.app')
    except (AppError, ConfigError) as error:  # expected failures: no traceback
        print(failure_line(error), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main(sys.argv[1:])
