"""docs/api.md, the project's reference of the HTTP contract, names every route the
app serves (method and path) and no route it does not serve."""
import re
from pathlib import Path

from tests.support.servers import test_config as make_config
from weiguan.web.app import create_app
from weiguan.web.openapi import build_document

API_DOC = Path(__file__).resolve().parents[2] / 'docs' / 'api.md'
DOC_ROUTE = re.compile(r'`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`')


def _normalized(path: str) -> str:
    """/files/<bucket>/<path...> and /files/{bucket}/{path} alike."""
    return re.sub(r'<(\w+)(?:\.\.\.)?>', r'{\1}', path)


def test_every_route_is_in_the_api_doc(tmp_path):
    app = create_app(make_config(tmp_path), name='api_doc_routes')
    served = {f'{method.upper()} {path}'
              for path, item in build_document(app)['paths'].items() for method in item}
    documented = {f'{method} {_normalized(path)}'
                  for method, path in DOC_ROUTE.findall(API_DOC.read_text())}
    assert len(served) >= 28
    assert served - documented == set(), 'routes missing from docs/api.md'
    assert documented - served == set(), 'docs/api.md names routes the app lacks'
