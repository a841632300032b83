"""Fast dumps from marshmallow schemas.

marshmallow's generic dump walks each field through several method calls per value;
a hydrated timeline page of 20 posts has ~2000 values and cost ~2.9 ms to dump here,
more than the whole request's budget. `compile_dumper` reads a schema's fields once
and writes a plain function doing the same renaming and conversions, one statement
per field (the loop over a plan of fields it replaced cost a third more: 207 µs a
20-post page against 152, docs/performance.md), so the schema stays the one
description of the wire shape (and of the OpenAPI document) and only its dump gets
fast. (The one library that did this, toastedmarshmallow, stopped at marshmallow 2.)
Datetimes are left as objects: orjson writes them in the same ISO 8601 form as
marshmallow's `isoformat()`. A memoized dump (see _memoized) is JSON already: what
orjson writes of a dump is what marshmallow's dump would give.
"""
from collections import OrderedDict
from typing import Any, Callable

import orjson
from marshmallow import Schema, fields
from marshmallow.utils import missing

Dumper = Callable[[Any], Any]

_SCALARS: dict[type, Callable[[Any], Any] | None] = {
    fields.Integer: int, fields.Float: float, fields.String: str, fields.Boolean: bool,
    fields.DateTime: None,  # orjson formats datetimes itself
}


def _scalar(field: fields.Field[Any]) -> Callable[[Any], Any] | None:
    for kind, convert in _SCALARS.items():
        if isinstance(field, kind):
            return convert
    raise TypeError(f'compile_dumper does not know {type(field).__name__}')


def _value_dumper(field: fields.Field[Any]) -> Callable[[Any], Any] | None:
    """A function for one value of the field (None: the value is kept as it is)."""
    if isinstance(field, fields.Nested):
        return compile_dumper(field.schema)
    if isinstance(field, fields.List):
        inner = _value_dumper(field.inner)
        if inner is None:
            return list
        return lambda values: [None if v is None else inner(v) for v in values]
    return _scalar(field)


def compile_dumper(schema: Schema) -> Dumper:
    """A function giving what `schema.dump(obj)` gives, for dict-like objects."""
    dump_one = _compile_one(schema)
    if schema.many:
        return lambda objs: [dump_one(obj) for obj in objs]
    return dump_one


def _compile_one(schema: Schema) -> Dumper:
    """The dump of one object, whatever the schema's `many`. A schema class with a
    `memo_size` memoizes its dumps by the object's identity (see _memoized), in one
    memo for all its uses (a file is an avatar, an image, a video), unless an
    instance picks its fields (`only`, `exclude`)."""
    size = getattr(schema, 'memo_size', 0)
    if not size or schema.only is not None or schema.exclude:
        return _compile_fields(schema)
    kind = type(schema)
    shared: Dumper | None = kind.__dict__.get('_memoized_dump')
    if shared is None:
        shared = _memoized(_compile_fields(schema), size)
        kind._memoized_dump = shared  # type: ignore[attr-defined]
    return shared


def _memoized(dump_one: Dumper, size: int) -> Dumper:
    """For objects that are never changed once made and are handed out again and
    again (presented files: services/file_links.py; stat rows: dependencies/caches.py,
    DecodedEntries.stat; presented users and posts: services/hydration.py,
    Presented): each one's dump is kept beside it, for the `size` objects
    dumped last, already written as JSON (an orjson.Fragment, which orjson copies
    into its output as it is: a page's files and stats were 40% of its orjson time).
    The entry holds the object, so its id cannot be another object's while the entry
    lives."""
    memo: OrderedDict[int, tuple[Any, orjson.Fragment]] = OrderedDict()

    def dump(obj: Any) -> orjson.Fragment:
        held = memo.get(id(obj))
        if held is not None and held[0] is obj:
            return held[1]
        out = orjson.Fragment(orjson.dumps(dump_one(obj)))
        if len(memo) >= size:
            memo.popitem(last=False)  # the oldest entry (O(1), unlike a dict's first key)
        memo[id(obj)] = (obj, out)
        return out

    return dump


def _compile_fields(schema: Schema) -> Dumper:
    """The dump of one object by a function with one `if` per field, its source
    written here and run once by exec. Keys and attribute names go in as repr()
    literals; converters and defaults as names bound in its namespace."""
    namespace: dict[str, Any] = {'missing': missing}
    lines = ['def dump_one(obj):', '    out = {}', '    get = obj.get']
    for n, (name, field) in enumerate(schema.dump_fields.items()):
        convert, default = _value_dumper(field), field.dump_default
        namespace[f'c{n}'], namespace[f'd{n}'] = convert, default
        value = 'v' if convert is None else f'(v if v is None else c{n}(v))'
        lines += [f'    v = get({field.attribute or name!r}, missing)',
                  '    if v is not missing:',
                  f'        out[{field.data_key or name!r}] = {value}']
        if default is not missing:
            fill = f'd{n}()' if callable(default) else f'd{n}'
            lines += ['    else:', f'        v = {fill}',
                      f'        out[{field.data_key or name!r}] = {value}']
    lines.append('    return out')
    exec('\n'.join(lines), namespace)  # noqa: S102  # the source is built above, from the schema
    dump_one: Dumper = namespace['dump_one']
    return dump_one


class CompiledDumpSchema(Schema):
    """A Schema whose dump() runs a function compiled from its fields on first use."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        dumper = self.__dict__.get('_dump_one')
        if dumper is None:
            dumper = self._dump_one = _compile_one(self)
        if self.many if many is None else many:
            return [dumper(item) for item in obj]
        return dumper(obj)
