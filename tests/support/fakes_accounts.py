"""In-memory fakes of the accounts' ports beside the repositories (the password hasher,
the verify-code sender) and a clock the tests move by hand; tests/support/fakes.py has
the repositories'."""
from weiguan.entities.errors import Unavailable


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
