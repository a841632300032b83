"""Schemathesis over the whole OpenAPI document against a real server, logged out and
logged in: no 5xx at all, and every answer as the document says (status code,
content type, required headers, body schema; invalid data rejected).

Bounded for the suite (FUZZ_EXAMPLES positive and as many negative examples per
operation and pass, seeded); bench/fuzz.py runs the same with many more."""
import asyncio
import os

import pytest

from tests.support.servers import test_config as make_config
from tests.support.fuzzing import fuzz

FUZZ_EXAMPLES = int(os.environ.get('WG_TEST_FUZZ_EXAMPLES', 8))


@pytest.fixture
def config(tmp_path) -> dict:
    # The fuzzer registers a fresh user whenever a fuzzed logout ends its session:
    # registrations are not limited here. Login and verify-code limits stay on.
    return make_config(tmp_path, RATE_REGISTER_PER_IP=0)


@pytest.mark.usefixtures('fast_passwords')
async def test_fuzz_whole_document_logged_out_and_logged_in(server, client, capsys):
    document = (await client.get('/openapi.json')).json()
    operations = {f'{method.upper()} {path}' for path, item in document['paths'].items()
                  for method in item}
    logged_out, logged_in = [
        await asyncio.to_thread(fuzz, server.url, document, max_examples=FUZZ_EXAMPLES,
                                logged_in=session)
        for session in (False, True)]
    with capsys.disabled():
        print('\nfuzz ' + logged_out.summary('logged out: '))
        print('fuzz ' + logged_in.summary('logged in: '))
        print('never 2xx:', sorted(operations - logged_in.succeeded - logged_out.succeeded))

    for figures in (logged_out, logged_in):
        assert figures.server_errors == []
        assert figures.nonconforming == []
        assert figures.requests >= len(operations) * 2 * FUZZ_EXAMPLES
    assert logged_out.statuses['positive', 401] > 0
    # Valid cases of the logged-in pass were all sent logged in (negative ones may
    # leave the cookie out or spoil it: those answer 401), and went past the guard.
    assert logged_in.statuses['positive', 401] == 0
    assert logged_in.statuses['positive', 200] > 2 * logged_out.statuses['positive', 200]
    assert logged_in.statuses['positive', 404] > 0
    assert logged_in.statuses['negative', 400] > 0
    # The answers checked against the document include successes of the richest shapes.
    assert {'GET /account/info', 'POST /account/modify', 'POST /post/publish',
            'GET /post/following', 'GET /post/liked', 'GET /user/info',
            'GET /user/followings', 'POST /storage/upload', 'GET /storage/file/info',
            'GET /files/{bucket}/{path}'} <= logged_in.succeeded
