"""Schemathesis over the whole OpenAPI document against a running server; shared by
tests/e2e/test_openapi_fuzz.py (few examples) and bench/fuzz.py (many).

Every operation is fuzzed with positive data (valid by the document) and negative
data (invalid by it), seeded so that a run is repeatable. Nothing raises on a finding:
each response is counted and checked, and the findings are collected in `Figures`:
a 5xx of any kind, and any response the document does not describe (status code,
content type, required headers, body schema) or that accepted invalid data."""
import copy
import io
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               negative_data_rejection,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from weiguan.entities.fields import MAX_ID

from tests.support.contract import answer_violations, json_answer
from weiguan.services.file_links import THUMB_SIZES, thumb_process

CONFORMANCE = [status_code_conformance, content_type_conformance,
               response_headers_conformance, response_schema_conformance]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
SEED = 20261123
TIMEOUT = 30  # seconds per request: a hang is a finding too, not a stuck run


@dataclass
class Figures:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)  # (mode, HTTP status) -> count
    server_errors: list[str] = field(default_factory=list)
    nonconforming: list[str] = field(default_factory=list)
    succeeded: set[str] = field(default_factory=set)  # operations answered with a 2xx

    def add(self, other: 'Figures') -> None:
        self.requests += other.requests
        self.statuses.update(other.statuses)
        self.server_errors += other.server_errors
        self.nonconforming += other.nonconforming
        self.succeeded |= other.succeeded

    def summary(self, label: str = '') -> str:
        lines = [f'{label}requests sent: {self.requests}, 5xx: {len(self.server_errors)}, '
                 f'not matching the document: {len(self.nonconforming)}']
        for mode in MODES:
            lines.append(f'  {mode.value} statuses: ' + ', '.join(
                f'{status}: {n}' for (m, status), n in sorted(self.statuses.items())
                if m == mode.value))
        lines += [f'  5xx: {finding}' for finding in self.server_errors[:10]]
        lines += [f'  nonconforming: {finding}' for finding in self.nonconforming[:10]]
        return '\n'.join(lines)


class Session:
    """The session cookie the cases are sent with. Logged in, it keeps a user logged
    in: a case that ends the session (logout) is followed by a fresh login, one that
    starts another (login, register) hands its cookie on. The cookie is sent only
    when the case has not left it out on purpose (a negative case about security)."""

    def __init__(self, base_url: str, cookie_name: str,
                 login: Callable[[requests.Session], str] | None):
        self.base_url = base_url
        self.cookie_name = cookie_name
        self.login = login
        self.http = requests.Session()
        self.sid = login(self.http) if login else None

    def cookies(self, case) -> dict | None:
        if self.sid is None or case.operation.schema.is_security_param_negated(case):
            return None
        return {self.cookie_name: self.sid}

    def after(self, response) -> None:
        new_sid = self.http.cookies.get(self.cookie_name)
        self.http.cookies.clear()
        if self.login is None:
            return
        if new_sid:
            self.sid = new_sid
        elif any(value.startswith(self.cookie_name + '=')
                 for value in response.headers.get('set-cookie', ())):
            self.sid = self.login(self.http)  # the cookie was deleted: logged out


def register_login(base_url: str, cookie_name: str, password: str = 'fuzzpass1') -> Callable:
    """A login function registering a new user each time it is called; it answers
    the new session id."""
    names = itertools.count(1)

    def login(http: requests.Session) -> str:
        while True:
            response = http.post(f'{base_url}/account/register', timeout=TIMEOUT, json={
                'username': f'fuzz{next(names)}', 'password': password})
            if response.json()['code'] == 'ok':
                sid = http.cookies[cookie_name]
                http.cookies.clear()
                return sid
            assert response.json()['code'] == 'duplicate', response.text
    return login


@dataclass
class Seeds:
    ids: dict[str, list[int]]      # of the seeded users, posts and files
    locations: list[list[str]]     # [bucket, path] of the seeded files


def seed_data(session: Session) -> Seeds:
    """A few rows for positive cases to find: the user's image, text and image posts
    (the image one liked), and a friend the user follows, with a post of their own."""
    def send(path: str, sid: str, **kwargs) -> dict:
        response = requests.request('POST' if kwargs else 'GET', session.base_url + path,
                                    cookies={session.cookie_name: sid}, timeout=TIMEOUT,
                                    **kwargs)
        return response.json()['data']

    friend_sid = session.login(requests.Session())
    png = io.BytesIO()
    Image.new('RGB', (40, 30), (200, 40, 40)).save(png, 'PNG')
    files = send('/storage/upload', session.sid,
                 files={'files': ('red.png', png.getvalue(), 'image/png')})['files']
    users = [send('/account/info', sid)['user']['id'] for sid in (session.sid, friend_sid)]
    posts = [send('/post/publish', sid, json=body)['post']['id'] for sid, body in (
        (session.sid, {'type': 'text', 'text': 'hello'}),
        (session.sid, {'type': 'image', 'imageIds': [files[0]['id']]}),
        (friend_sid, {'type': 'text', 'text': 'hi from a friend'}))]
    send('/user/follow', session.sid, json={'followingId': users[1]})
    send('/post/like', session.sid, json={'postId': posts[1]})  # the friend's: not yet
    return Seeds(ids={'users': users, 'posts': posts, 'files': [f['id'] for f in files]},
                 locations=[file['url'].split('/files/', 1)[1].split('/', 1)
                            for file in files])


# What an id names, by its wire name; a bare `id` names what its route is about.
ID_KINDS = {'userId': 'users', 'followingId': 'users', 'postId': 'posts',
            'beforeId': 'posts', 'afterId': 'posts', 'avatarId': 'files',
            'imageIds': 'files', 'videoId': 'files'}
PATH_KINDS = {'/user/': 'users', '/post/': 'posts', '/storage/': 'files'}


def hinted(document: dict, seeds: Seeds | None) -> dict:
    """The document for positive cases, narrowed to where the data is: each id to the
    seeded ids of its kind, the files to the seeded ones and `process` to its valid
    values. Negative cases use the document as served, so "invalid" keeps its real
    meaning."""
    document = copy.deepcopy(document)
    if seeds is None:
        return document
    components = document['components']['schemas']

    def narrow(schema: dict, kind: str | None) -> None:
        if schema.get('type') == 'array':
            narrow(schema['items'], kind)
        elif kind and schema.get('type') == 'integer' and schema.get('maximum') == MAX_ID:
            del schema['minimum'], schema['maximum']
            schema['enum'] = seeds.ids[kind]

    def inline(schema: dict) -> dict:  # a body's own copy of its request schema
        if '$ref' in schema:
            return copy.deepcopy(components[schema['$ref'].rsplit('/', 1)[1]])
        if 'allOf' in schema:
            return {**schema, 'allOf': [inline(part) for part in schema['allOf']]}
        return schema

    for path, item in document['paths'].items():
        own = next((kind for prefix, kind in PATH_KINDS.items() if path.startswith(prefix)),
                   None)

        def kind_of(name: str, own: str | None = own) -> str | None:
            return ID_KINDS.get(name, own if name == 'id' else None)

        for operation in item.values():
            for parameter in operation.get('parameters', ()):
                narrow(parameter['schema'], kind_of(parameter['name']))
            for content in operation.get('requestBody', {}).get('content', {}).values():
                content['schema'] = body = inline(content['schema'])
                for part in [body, *body.get('allOf', ())]:
                    for name, prop in part.get('properties', {}).items():
                        narrow(prop, kind_of(name))
    hints = {'bucket': [bucket for bucket, _ in seeds.locations],
             'path': [path for _, path in seeds.locations],
             'process': [thumb_process(size) for size in THUMB_SIZES]}
    for parameter in document['paths']['/files/{bucket}/{path}']['get']['parameters']:
        if parameter['name'] in hints:
            parameter['schema'] = {'type': 'string', 'enum': hints[parameter['name']]}
    return document


def _describe(case, response, error: BaseException | None = None) -> str:
    """One finding: what failed, the curl line to replay it, the start of the answer."""
    failures = getattr(error, 'exceptions', None) or ([error] if error else [])
    what = '; '.join(' '.join(f'{getattr(f, "title", type(f).__name__)}: '
                              f'{getattr(f, "message", str(f))}'.split()) for f in failures)
    return (f'{case.method} {case.formatted_path} -> {response.status_code} {what}\n'
            f'    {case.as_curl_command()}\n    {response.text[:300]!r}')


def _check_status(case, response, mode: GenerationMode, figures: Figures) -> None:
    figures.requests += 1
    figures.statuses[mode.value, response.status_code] += 1
    if 200 <= response.status_code < 300:
        figures.succeeded.add(case.operation.label)
    if response.status_code >= 500:
        figures.server_errors.append(_describe(case, response))


def _check(case, response, mode: GenerationMode, figures: Figures) -> None:
    _check_status(case, response, mode, figures)
    checks = CONFORMANCE + ([negative_data_rejection] if mode.is_negative else [])
    try:
        case.validate_response(response, checks=checks)
    except (Exception, FailureGroup) as error:  # FailureGroup: the failed checks
        if not _form_field_retyped(case, error):
            figures.nonconforming.append(_describe(case, response, error))
    # The document's JSON Schema counts 0.0 as an integer; the app's parsers do not.
    content_type = response.headers.get('content-type') or ['']  # each header: a list
    body = json_answer(case.formatted_path, content_type[0], response.content)
    if body is not None:
        for problem in answer_violations(body):
            figures.nonconforming.append(_describe(case, response, ValueError(problem)))


def _form_field_retyped(case, error: BaseException) -> bool:
    """A multipart field is text on the wire: a negative case that only gave one
    another type (229 for "229", [] for no field) sent valid data."""
    failures = getattr(error, 'exceptions', None) or [error]
    return case.media_type == 'multipart/form-data' and all(
        isinstance(f, AcceptedNegativeData) and 'violates `type`' in f.message
        for f in failures)


def cover_operation(operation, session: Session) -> Figures:
    """Schemathesis' coverage cases of the operation: boundary values, each missing
    required part, wrong types, and the other HTTP methods on its path (those answer
    404 by design, docs/api.md: only their status is checked, never a 5xx)."""
    figures = Figures()
    schema = operation.schema
    config = schema.config.generation_for(operation=operation, phase='coverage')
    for case in schema.iter_coverage_cases(operation, generation_modes=list(MODES),
                                           generation_config=config):
        mode = case.meta.generation.mode if case.meta else GenerationMode.POSITIVE
        response = case.call(base_url=session.base_url, session=session.http,
                             cookies=session.cookies(case), timeout=TIMEOUT)
        session.after(response)
        if case.method.upper() == operation.method.upper():
            _check(case, response, mode, figures)
        else:
            _check_status(case, response, mode, figures)
    return figures


def fuzz_operation(operation, session: Session, mode: GenerationMode, max_examples: int,
                   seed: int = SEED) -> Figures:
    figures = Figures()

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=max_examples, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck), print_blob=False)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(base_url=session.base_url, session=session.http,
                             cookies=session.cookies(case), timeout=TIMEOUT)
        session.after(response)
        _check(case, response, mode, figures)

    try:
        run()
    except (hypothesis.errors.Unsatisfiable, schemathesis.errors.SerializationNotPossible):
        pass  # nothing to negate (an operation without parameters, say): not a finding
    return figures


def _session_changes_last(label: str) -> tuple:
    """/account last (they switch or end the user, whose seeded data the others
    use), and logout the very last."""
    return ('/account/' in label, label.endswith('/account/logout'), label)


def fuzz(base_url: str, document: dict, *, max_examples: int, logged_in: bool,
         coverage: bool = True, seed: int = SEED,
         log: Callable[[str], None] = lambda line: None) -> Figures:
    """Fuzz every operation of the document: its coverage cases (unless told not
    to), then `max_examples` positive and as many negative examples; returns the
    figures. Logged in, the user first seeds a little data (see `hinted`)."""
    cookie_name = document['components']['securitySchemes']['session']['name']
    session = Session(base_url, cookie_name,
                      register_login(base_url, cookie_name) if logged_in else None)
    seeds = seed_data(session) if logged_in else None
    schemas = {GenerationMode.POSITIVE: schemathesis.openapi.from_dict(
                   hinted(document, seeds)),
               GenerationMode.NEGATIVE: schemathesis.openapi.from_dict(document)}
    operations = {mode: {result.ok().label: result.ok()
                         for result in schema.get_all_operations()}
                  for mode, schema in schemas.items()}

    def runs(label: str):
        if coverage:  # from the document as served, like the negative cases
            yield 'coverage', cover_operation(operations[MODES[1]][label], session)
        for mode in MODES:
            yield mode.value, fuzz_operation(operations[mode][label], session, mode,
                                             max_examples, seed)

    figures = Figures()
    for label in sorted(operations[MODES[1]], key=_session_changes_last):
        for name, found in runs(label):
            log(f'{label} {name}: {found.requests} requests, '
                f'{len(found.server_errors)} 5xx, {len(found.nonconforming)} nonconforming')
            figures.add(found)
    return figures
