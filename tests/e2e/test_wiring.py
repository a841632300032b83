"""Handlers are given their services by dependency-injector's wiring: each blueprint
module names them with `Provide[Container.x]` markers, which container.wire() sets,
at start, to the running container's objects (plain objects, not awaitables)."""
import inspect
import pkgutil
from importlib import import_module

from dependency_injector.wiring import Provide

from weiguan.container import HANDLER_SERVICES
from weiguan.web import blueprints

from tests.support import register


def blueprint_modules() -> list:
    return [import_module(f'{blueprints.__name__}.{info.name}')
            for info in pkgutil.iter_modules(blueprints.__path__)]


async def test_every_marker_is_set_to_a_plain_service_of_the_container(server):
    services = {name: server.container.providers[name]() for name in HANDLER_SERVICES}
    assert not any(inspect.isawaitable(service) for service in services.values())
    given = set()
    for module in blueprint_modules():
        for name, value in vars(module).items():
            assert not isinstance(value, Provide), (module.__name__, name)  # all wired
            assert not inspect.isawaitable(value), (module.__name__, name)
            given |= {key for key, service in services.items() if value is service}
    assert given == {'account_service', 'post_service', 'user_service', 'storage_service',
                     'health_service', 'message_service'}


async def test_a_handler_uses_the_service_of_the_running_container(server, client):
    await register(client)
    service = server.container.account_service()
    calls = []
    profile = service.profile

    async def recorded(user_id):
        calls.append(user_id)
        return await profile(user_id)
    service.profile = recorded
    user = (await client.get('/account/info')).json()['data']['user']
    assert user['username'] == 'alice' and calls == [user['id']]
