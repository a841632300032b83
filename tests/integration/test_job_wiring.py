"""The container's job parts: every owner's jobs registered on the queue the settings
choose; on the embedded default this process runs them (and finishes them before
the database closes), on Redis it only enqueues them for the workers."""
import asyncio

from dependency_injector import providers

from weiguan.container import build_container
from weiguan.dependencies.redis_jobs import create_job_redis

from tests.support.servers import REDIS_URI
from tests.support.servers import test_config as make_config


class Owner:
    """A service owning one job that reads the database and the store after a pause
    (the in-process store forgets everything when it closes)."""

    def __init__(self, container):
        self.container = container
        self.done: list[dict] = []

    def jobs(self) -> dict:
        return {'test.read_user': self.read_user}

    async def read_user(self, user_id: int) -> None:
        await asyncio.sleep(0.2)
        users, store = await self.container.users(), await self.container.store()
        self.done.append({'user_id': user_id, 'found': await users.get(user_id),
                          'mark': await store.get('test:mark')})


async def started(config):
    container = build_container(config)
    owner = Owner(container)
    container.job_owners.add_args(providers.Object(owner))
    await container.init_resources()
    return container, owner


async def test_on_the_embedded_default_the_process_runs_its_jobs_to_the_end(tmp_path):
    config = make_config(tmp_path, REDIS_URI=None, DB_CREATE_TABLES=True)
    container, owner = await started(config)
    try:
        await (await container.schema_migrations()).bring_to_head()
        await (await container.store()).set('test:mark', 'here', ttl=60)
        await (await container.job_queue()).enqueue('test.read_user', user_id=404)
    finally:
        await container.shutdown_resources()  # the job is still sleeping: drained first
    assert owner.done == [{'user_id': 404, 'found': None, 'mark': 'here'}]


async def test_on_redis_the_process_only_enqueues(tmp_path):
    if not REDIS_URI:  # the embedded pass: the test above is this pass's case
        return
    client = create_job_redis(REDIS_URI)
    await client.flushdb()
    container, owner = await started(make_config(tmp_path))
    try:
        await (await container.job_queue()).enqueue('test.read_user', user_id=1)
        assert await client.llen('weiguan:jobs:queued') == 1  # for `worker run`
        await asyncio.sleep(0.4)  # longer than the job would take here
        assert owner.done == []
    finally:
        await container.shutdown_resources()
        await client.flushdb()
        await client.aclose()
