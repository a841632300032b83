"""Rewrites the configuration table of README.md from weiguan.config.SETTINGS.

    .venv/bin/python scripts/config_table.py          # rewrite README.md in place
    .venv/bin/python scripts/config_table.py --check  # exit 1 when it is out of date
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from weiguan.config import ENV_PREFIX, SETTINGS  # noqa: E402

README = os.path.join(ROOT, 'README.md')
TABLE = re.compile(r'^\| key \| env var \|.*?\n(?=\n)', re.S | re.M)


def _default(kind: type, value) -> str:
    if value is None:
        return '(not set)'
    if value == '':
        return '(empty)'
    return f'`{str(value).lower() if kind is bool else value}`'


def table() -> str:
    rows = ['| key | env var | type | default | description |', '|---|---|---|---|---|']
    for key, (kind, default, description) in SETTINGS.items():
        rows.append(f'| `{key}` | `{ENV_PREFIX}{key}` | {kind.__name__} | '
                    f'{_default(kind, default)} | {description} |')
    return '\n'.join(rows) + '\n'


def main() -> int:
    with open(README) as f:
        text = f.read()
    updated = TABLE.sub(lambda _: table(), text, count=1)
    if '--check' in sys.argv:
        return 0 if updated == text else 1
    with open(README, 'w') as f:
        f.write(updated)
    return 0


if __name__ == '__main__':
    sys.exit(main())
