"""Statements built once with SQLAlchemy Core and, on MySQL, run on the driver.

Going through SQLAlchemy's async engine costs ~300 µs of CPU per statement here
(pool checkout, greenlet hops, execution context, result objects), three times
what the driver alone spends on the same round trip, on asyncmy as on aiomysql
(bench/query_floor.py). The hot reads, and the likes' transactions, are therefore
written as constant Core statements with named bind parameters (`Prepared`),
compiled once per dialect to the driver's SQL text, and executed on a plain driver
connection (asyncmy's or aiomysql's, MYSQL_DRIVER)
(Database.fetch_all, Database.prepared_transaction). What SQLAlchemy
would do around the driver call is kept: the bind and result type processors, and
the expansion of `IN (...)` parameters. On SQLite the statement is executed
through SQLAlchemy, and its rows are shaped the same way."""
import re
from operator import itemgetter
from typing import Any, Callable, Iterable

import sqlalchemy as sa

POSTCOMPILE = re.compile(r'__\[POSTCOMPILE_(\w+)\]')


def _getter(indexes: list[int]) -> Callable[[tuple], tuple]:
    if len(indexes) == 1:
        return lambda row, i=indexes[0]: (row[i],)
    return itemgetter(*indexes)


class Shape:
    """Rows (tuples) into dicts keyed by the selected columns. Columns named
    prefix+x, for a prefix in `nest`, go to a dict of their own under the prefix
    (without its trailing underscores); it is None when its `id` is NULL (the outer
    join found nothing)."""

    def __init__(self, keys: list[str], nest: tuple[str, ...]):
        groups: dict[str | None, list[tuple[int, str]]] = {None: []}
        groups.update({prefix: [] for prefix in nest})
        for index, key in enumerate(keys):
            prefix = next((p for p in nest if key.startswith(p)), None)
            groups[prefix].append((index, key[len(prefix or ''):]))
        own = groups.pop(None)
        self.keys = tuple(key for _, key in own)
        self.get = _getter([index for index, _ in own])
        self.nested = [(prefix.rstrip('_'),
                        next(index for index, key in columns if key == 'id'),
                        tuple(key for _, key in columns),
                        _getter([index for index, _ in columns]))
                       for prefix, columns in groups.items()]

    def dicts(self, rows: Iterable[tuple],
              processors: list[tuple[int, Callable]] = ()) -> list[dict]:
        keys, get, nested = self.keys, self.get, self.nested
        result = []
        for row in rows:
            if processors:
                row = list(row)
                for index, processor in processors:
                    row[index] = processor(row[index])
            item = dict(zip(keys, get(row)))
            for name, id_index, nested_keys, nested_get in nested:
                item[name] = (None if row[id_index] is None
                              else dict(zip(nested_keys, nested_get(row))))
            result.append(item)
        return result


class Plan:
    """One statement's SQL text for a format-paramstyle driver, how to turn named
    parameters into its positional arguments, and the result processors its
    column types need (but those of types the driver already converts)."""

    def __init__(self, statement: sa.Executable, dialect, converted: tuple[type, ...]):
        compiled = statement.compile(dialect=dialect)
        binds = compiled.binds
        self.sql = compiled.string
        self.names = list(compiled.positiontup or ())
        self.defaults = {name: bind.effective_value for name, bind in binds.items()}
        # a bind rendered as a POSTCOMPILE token ("IN (...)", or a literal LIMIT)
        # gets its placeholders when its values are known
        self.postcompiled = {name: binds[name].expanding
                             for name in POSTCOMPILE.findall(self.sql)}
        self.bind_processors = {}
        for name in set(self.names):
            processor = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.bind_processors[name] = processor
        self.result_processors = []
        for index, column in enumerate(getattr(statement, 'selected_columns', ())):
            if isinstance(column.type, converted):
                continue  # the driver gives these values in their final form
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                self.result_processors.append((index, processor))

    def arguments(self, params: dict[str, Any]) -> tuple[str, tuple]:
        """The SQL text and its positional arguments."""
        values, sql = [], self.sql
        for name in self.names:
            value = params[name] if name in params else self.defaults[name]
            processor = self.bind_processors.get(name)
            if self.postcompiled.get(name):  # expanding: one placeholder per item
                items = [processor(v) for v in value] if processor else list(value)
                values.extend(items)
                sql = sql.replace(f'__[POSTCOMPILE_{name}]',
                                  ', '.join(['%s'] * len(items)) or 'NULL', 1)
            else:
                values.append(processor(value) if processor else value)
                if name in self.postcompiled:
                    sql = sql.replace(f'__[POSTCOMPILE_{name}]', '%s', 1)
        return sql, tuple(values)


class Prepared:
    """A constant statement (module level: it is compiled once per dialect) and,
    for a SELECT, the shape of its rows (see Shape for `nest`). Its parameters are
    named bindparams; in an INSERT or UPDATE they must not take a column's name
    (SQLAlchemy reserves those for the VALUES and SET clauses)."""

    def __init__(self, statement: sa.Executable, nest: tuple[str, ...] = ()):
        self.statement = statement
        columns = getattr(statement, 'selected_columns', None)
        self.shape = Shape(list(columns.keys()), nest) if columns is not None else None
        self._plans: dict[tuple, Plan] = {}

    def plan(self, dialect, converted: tuple[type, ...] = ()) -> Plan:
        key = (dialect.name, converted)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(self.statement, dialect, converted)
        return plan
