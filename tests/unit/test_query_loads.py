"""web/params.QueryLoads: a route's query strings loaded once and handed out again,
with the same answers and the same refusals as a fresh load."""
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import pytest
from marshmallow import ValidationError

from weiguan.entities.inputs import PostIdQuery, TimelineQuery
from weiguan.web.params import QUERY_KEPT_LENGTH, QueryLoads


@dataclass
class Request:
    """What QueryLoads reads of a Sanic request: its raw query string and the
    arguments Sanic parses from it."""
    query_string: str
    args: dict = field(init=False)

    def __post_init__(self):
        self.args = parse_qs(self.query_string)


@pytest.mark.parametrize('query', ['', 'limit=5', 'limit=5&beforeId=90', 'afterId=3'])
def test_a_query_loads_again_as_a_fresh_load_does(query):
    loads = QueryLoads(TimelineQuery())
    fresh = TimelineQuery().load({k: v[0] for k, v in parse_qs(query).items()})
    assert loads(Request(query)) == fresh
    assert loads(Request(query)) == fresh


def test_each_answer_is_a_copy_the_handler_may_change():
    loads = QueryLoads(PostIdQuery())
    first = loads(Request('id=7'))
    first['post_id'] = 8
    first['extra'] = True
    assert loads(Request('id=7')) == {'post_id': 7}


@pytest.mark.parametrize('query, field_name', [('limit=0', 'limit'), ('beforeId=x', 'beforeId'),
                                               ('beforeId=5&afterId=3', 'beforeId')])
def test_a_refused_query_is_refused_every_time(query, field_name):
    loads = QueryLoads(TimelineQuery())
    for _ in range(2):
        with pytest.raises(ValidationError) as refused:
            loads(Request(query))
        assert field_name in refused.value.messages
    assert loads(Request('limit=3'))['limit'] == 3


def test_long_query_strings_load_but_are_not_kept():
    """An attacker's distinct long query strings cost a load each, not memory."""
    loads = QueryLoads(TimelineQuery(), kept=4)
    long = 'limit=5&' + 'x=' + 'y' * QUERY_KEPT_LENGTH
    assert loads(Request(long))['limit'] == 5
    assert len(loads._loaded) == 0
    assert loads(Request('limit=5'))['limit'] == 5
    assert len(loads._loaded) == 1


def test_at_most_kept_query_strings_are_held():
    loads = QueryLoads(PostIdQuery(), kept=4)
    for post_id in range(1, 11):
        assert loads(Request(f'id={post_id}')) == {'post_id': post_id}
    assert len(loads._loaded) == 4
