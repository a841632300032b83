"""In-memory fakes of the adapters the services use, for unit tests of services.

They keep the contracts of the real adapters (plain dicts out, Duplicate with
`.field` on a unique clash) without a database. The key-value store needs no fake:
`weiguan.dependencies.kv.MemoryStore` is the in-process implementation already.
"""
import copy
import itertools
from datetime import datetime, timezone

from weiguan.entities.errors import Duplicate


def _now() -> datetime:
    return datetime.now(timezone.utc)


class FakeUsers:
    """UserRepository in memory: username, mobile and email are unique."""

    UNIQUE = ('username', 'mobile', 'email')

    def __init__(self, files: 'FakeFiles | None' = None):
        self.rows: dict[int, dict] = {}
        self.stats: dict[int, dict] = {}
        self.files = files  # the avatars come joined to the users, as in the database
        self._ids = itertools.count(1)

    def _check_unique(self, values: dict, own_id: int | None = None) -> None:
        for field in self.UNIQUE:
            value = values.get(field)
            if value is None:
                continue
            for row in self.rows.values():
                if row['id'] != own_id and row[field] == value:
                    error = Duplicate()
                    error.field = field
                    raise error

    async def create(self, username: str, password_hash: str, **contacts: str) -> dict:
        self._check_unique({'username': username, **contacts})
        now = _now()
        user = {'id': next(self._ids), 'username': username, 'password': password_hash,
                'mobile': None, 'email': None, 'avatar_id': None, 'intro': '',
                'disabled': False, 'created_at': now, 'updated_at': now, **contacts}
        self.rows[user['id']] = user
        self.stats[user['id']] = {'id': user['id'], 'user_id': user['id'], 'post_count': 0,
                                  'like_count': 0, 'following_count': 0,
                                  'follower_count': 0, 'created_at': now, 'updated_at': now}
        return dict(user)

    async def update(self, id: int, **values) -> dict | None:
        if id not in self.rows:
            return None
        self._check_unique(values, own_id=id)
        self.rows[id].update(values, updated_at=_now())
        return dict(self.rows[id])

    async def find_by(self, field: str, value: str) -> dict | None:
        return next((dict(r) for r in self.rows.values() if r[field] == value), None)

    async def get(self, id: int) -> dict | None:
        row = self.rows.get(id)
        return None if row is None else dict(row)

    async def get_many(self, ids) -> dict[int, dict]:
        return {i: dict(self.rows[i]) for i in set(ids) if i in self.rows}

    async def get_many_with_stats(self, ids) -> dict[int, dict]:
        avatars = self.files.rows if self.files else {}
        return {i: {**self.rows[i], 'stat': copy.deepcopy(self.stats.get(i)),
                    'avatar': copy.deepcopy(avatars.get(self.rows[i]['avatar_id']))}
                for i in set(ids) if i in self.rows}


class FakeFiles:
    def __init__(self):
        self.rows: dict[int, dict] = {}
        self._ids = itertools.count(1)

    async def create(self, user_id: int, region: str, bucket: str, path: str,
                     meta: dict) -> dict:
        now = _now()
        row = {'id': next(self._ids), 'user_id': user_id, 'region': region,
               'bucket': bucket, 'path': path, 'meta': dict(meta), 'created_at': now,
               'updated_at': now}
        self.rows[row['id']] = row
        return copy.deepcopy(row)

    async def get(self, id: int) -> dict | None:
        row = self.rows.get(id)
        return None if row is None else copy.deepcopy(row)

    async def get_many(self, ids) -> dict[int, dict]:
        return {i: copy.deepcopy(self.rows[i]) for i in set(ids) if i in self.rows}

    async def delete(self, id: int) -> None:
        self.rows.pop(id, None)


class FakeFollows:
    def __init__(self):
        self.pairs: set[tuple[int, int]] = set()

    async def following_among(self, user_id: int, ids) -> set[int]:
        return {i for i in ids if (user_id, i) in self.pairs}


class FakeHasher:
    """Not a hash at all: fast and readable, with the verify() contract of Argon2Hasher
    (False for no hash, i.e. an unknown account)."""

    async def hash(self, password: str) -> str:
        return 'hashed:' + password

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return password_hash is not None and password_hash == 'hashed:' + password


class FakeCodeSender:
    """Records what would have been sent; `failing` channels raise Unavailable, as
    a real sender whose delivery failed; `channels` are the ones it has."""

    def __init__(self, channels=('mobile', 'email')):
        self.sent: list[tuple[str, str, str]] = []
        self.texts: list[str] = []
        self.channels = set(channels)
        self.failing: set[str] = set()

    def delivers(self, channel: str) -> bool:
        return channel in self.channels

    async def send(self, channel: str, target: str, code: str, text: str) -> None:
        if channel in self.failing:
            from weiguan.entities.errors import Unavailable
            raise Unavailable()
        self.sent.append((channel, target, code))
        self.texts.append(text)

    def last_code(self, target: str) -> str | None:
        return next((code for _, t, code in reversed(self.sent) if t == target), None)


class FakeClock:
    """A monotonic clock the test moves by hand (for MemoryStore TTLs)."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
