"""The Python the code needs (declared in pyproject.toml), checked before anything
else is imported: an older one would fail later on syntax or a missing module with
a message that does not say why."""
import sys

REQUIRED = (3, 11)


def check_python(version: tuple = tuple(sys.version_info[:3])) -> None:
    if version[:2] < REQUIRED:
        shown = '.'.join(map(str, version))
        sys.exit(f'error: weiguan needs Python {REQUIRED[0]}.{REQUIRED[1]} or newer; '
                 f'this is Python {shown} ({sys.executable})')
