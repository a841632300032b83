"""The OpenAPI document as one self-contained HTML page (GET /docs).

Rendered here rather than by Swagger UI or Redoc: those load their scripts from a CDN,
which a machine without internet (and a strict Content-Security-Policy) cannot run,
and a page of plain HTML generated from the same document cannot disagree with it."""
import json
import re
from html import escape

STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:62rem;margin:2rem auto;
padding:0 1rem;color:#222}code,.path{font-family:ui-monospace,monospace}
table{border-collapse:collapse;margin:.4rem 0 1rem}td,th{border:1px solid #ccc;
padding:.2rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
.method{font-weight:bold;text-transform:uppercase}section{border-top:1px solid #ddd}
.intro{white-space:pre-line}"""


def _text(text: str) -> str:
    """Escaped, with `code` spans as in the document's Markdown."""
    return re.sub(r'`([^`]+)`', r'<code>\1</code>', escape(text))


def _name(ref: str) -> str:
    return ref.rsplit('/', 1)[-1]


def _type(schema: dict) -> str:
    """A short human rendering of a schema's type, with links to named schemas."""
    if '$ref' in schema:
        name = escape(_name(schema['$ref']))
        text = f'<a href="#schema-{name}">{name}</a>'
    elif 'allOf' in schema and len(schema['allOf']) == 1:
        text = _type(schema['allOf'][0])
    elif 'oneOf' in schema:
        text = ' or '.join(_type(option) for option in schema['oneOf'])
    elif schema.get('type') == 'array':
        text = 'list of ' + _type(schema.get('items', {}))
    else:
        text = escape(schema.get('type', 'any'))
        if 'format' in schema:
            text += f' ({escape(schema["format"])})'
    if schema.get('nullable'):
        text += ' or null'
    return text


def _rules(schema: dict) -> str:
    rules = []
    if 'enum' in schema:
        rules.append('one of ' + ', '.join(f'<code>{escape(json.dumps(v))}</code>'
                                           for v in schema['enum']))
    for key, label in (('minimum', 'min'), ('maximum', 'max'), ('minLength', 'min length'),
                       ('maxLength', 'max length'), ('minItems', 'min items'),
                       ('maxItems', 'max items'), ('pattern', 'pattern'),
                       ('default', 'default')):
        if key in schema and not (key.startswith('min') and schema[key] == 0):
            value = schema[key] if key == 'pattern' else json.dumps(schema[key])
            rules.append(f'{label} <code>{escape(value)}</code>')
    if schema.get('description'):
        rules.append(_text(schema['description']))
    return '; '.join(rules)


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    if not rows:
        return ''
    cells = ''.join(f'<th>{h}</th>' for h in head)
    body = ''.join('<tr>' + ''.join(f'<td>{c}</td>' for c in row) + '</tr>' for row in rows)
    return f'<table><tr>{cells}</tr>{body}</table>'


def _fields(schema: dict, components: dict) -> str:
    """The fields of an object schema (following a $ref or a single allOf)."""
    while '$ref' in schema or len(schema.get('allOf', ())) == 1:
        schema = (components[_name(schema['$ref'])] if '$ref' in schema
                  else {**schema['allOf'][0], **{k: v for k, v in schema.items()
                                                 if k != 'allOf'}})
    required = set(schema.get('required', ()))
    rows = [(f'<code>{escape(name)}</code>', _type(prop), 'yes' if name in required else '',
             _rules(prop)) for name, prop in schema.get('properties', {}).items()]
    return _table(('field', 'type', 'required', 'rules'), rows)


def _responses(operation: dict, components: dict) -> str:
    rows = []
    for status, response in operation['responses'].items():
        if '$ref' in response:
            response = components['responses'][_name(response['$ref'])]
        content = response.get('content', {})
        media = ', '.join(f'<code>{escape(m)}</code>' for m in content) or '(no body)'
        data = ''
        schema = content.get('application/json', {}).get('schema', {})
        ok = schema.get('oneOf', [schema])[0]
        if status.startswith('2') and 'data' in ok.get('properties', {}):
            data = _fields(ok['properties']['data'], components['schemas']) or '<code>{}</code>'
        rows.append((status, _text(response.get('description', '')), media, data))
    return _table(('status', 'when', 'content', '<code>data</code>'), rows)


def _operation(path: str, method: str, operation: dict, components: dict) -> str:
    anchor = escape(operation.get('operationId', f'{method}{path}'))
    security = operation.get('security', [])
    login = ('yes' if security and {} not in security else
             'no (the session is read when there is one)' if security else 'no')
    parts = [f'<section id="{anchor}"><h3><span class="method">{method}</span> '
             f'<span class="path">{escape(path)}</span></h3>',
             f'<p>{_text(operation.get("summary", ""))}</p>',
             f'<p>{_text(operation.get("description", ""))}</p>' if operation.get(
                 'description') else '',
             f'<p>Needs login: {login}.</p>']
    parameters = [(f'<code>{escape(p["name"])}</code>', escape(p['in']), _type(p['schema']),
                   'yes' if p.get('required') else '',
                   _rules({**p['schema'], 'description': p.get('description', '')}))
                  for p in operation.get('parameters', ())]
    if parameters:
        parts += ['<h4>Parameters</h4>',
                  _table(('name', 'in', 'type', 'required', 'rules'), parameters)]
    for media, content in operation.get('requestBody', {}).get('content', {}).items():
        parts += [f'<h4>Body (<code>{escape(media)}</code>)</h4>',
                  _rules(content['schema']),
                  _fields(content['schema'], components['schemas'])]
    parts += ['<h4>Responses</h4>', _responses(operation, components), '</section>']
    return '\n'.join(parts)


def render(document: dict) -> str:
    info = document['info']
    components = document.get('components', {})
    operations = [(path, method, operation)
                  for path, item in document['paths'].items()
                  for method, operation in item.items()]
    index = ''.join(
        f'<li><a href="#{escape(op.get("operationId", ""))}"><span class="method">{m}</span> '
        f'<span class="path">{escape(p)}</span></a> — {_text(op.get("summary", ""))}</li>'
        for p, m, op in operations)
    schemas = ''.join(
        f'<section id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
        f'{_rules(schema) if "properties" not in schema else ""}'
        f'{_fields(schema, components.get("schemas", {}))}</section>'
        for name, schema in components.get('schemas', {}).items())
    body = '\n'.join(_operation(p, m, op, components) for p, m, op in operations)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(info['title'])} API {escape(info['version'])}</title>
<style>{STYLE}</style></head><body>
<h1>{escape(info['title'])} API <small>{escape(info['version'])}</small></h1>
<p class="intro">{_text(info.get('description', ''))}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI
{escape(document['openapi'])}).</p>
<h2>Routes</h2><ul>{index}</ul>
<h2>Operations</h2>
{body}
<h2>Schemas</h2>
{schemas}
</body></html>
"""
