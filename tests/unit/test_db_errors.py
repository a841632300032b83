"""Both MySQL drivers' failures become the same product errors (db_errors.py): asyncmy
raises its own exception classes, aiomysql pymysql's, each with MySQL's error code in
`args[0]`, raw from a driver pool or wrapped by SQLAlchemy from the engine."""
import pymysql
import pytest
from asyncmy import errors as asyncmy_errors
from sqlalchemy import exc

from weiguan.dependencies.db_errors import Conflict, intact, translate
from weiguan.entities.errors import Duplicate, Unavailable

DRIVERS = {'asyncmy': asyncmy_errors, 'aiomysql': pymysql.err}


def both_ways(error):
    """The driver's error as a driver pool raises it, and as the engine does."""
    wrapped_class = {'IntegrityError': exc.IntegrityError,
                     'OperationalError': exc.OperationalError,
                     'InterfaceError': exc.InterfaceError}[type(error).__name__]
    return [error, wrapped_class('SELECT 1', None, error)]


@pytest.mark.parametrize('driver', DRIVERS)
def test_duplicate_key_is_a_duplicate_and_leaves_the_connection_in_step(driver):
    for error in both_ways(DRIVERS[driver].IntegrityError(1062, "Duplicate entry 'a'")):
        assert isinstance(translate(error), Duplicate)
        assert intact(error)


@pytest.mark.parametrize('driver', DRIVERS)
@pytest.mark.parametrize('code', [1213, 1205])  # deadlock, lock wait timeout
def test_deadlock_and_lock_wait_are_conflicts_on_an_intact_connection(driver, code):
    for error in both_ways(DRIVERS[driver].OperationalError(code, 'try again')):
        assert isinstance(translate(error), Conflict)
        assert intact(error)


@pytest.mark.parametrize('driver', DRIVERS)
@pytest.mark.parametrize('kind, code, words', [
    ('OperationalError', 2013, 'Lost connection to MySQL server during query'),
    ('OperationalError', 2003, "Can't connect to MySQL server on '127.0.0.1'"),
    ('InterfaceError', 0, 'Not connected')])
def test_lost_or_refused_connections_are_unavailable_and_never_reused(driver, kind, code,
                                                                    words):
    error = getattr(DRIVERS[driver], kind)(code, words)
    for raised in both_ways(error):
        translated = translate(raised)
        assert isinstance(translated, Unavailable) and not isinstance(translated, Conflict)
    assert not intact(error)


def test_a_refused_socket_and_other_errors():
    assert isinstance(translate(ConnectionRefusedError(111, 'refused')), Unavailable)
    assert translate(ValueError('a bug')) is None
