"""Alembic migrations of the schema (weiguan/dependencies/tables.py is the head).

Run them with `python -m weiguan.cli.app model upgrade` (see docs/operations.md);
`alembic` itself works too from the repository root (alembic.ini), configured by the
same WG_* variables."""
