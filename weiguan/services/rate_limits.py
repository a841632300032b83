"""The abuse limits: who may do what how often. The counting is the counter's
(fixed windows on the key-value store); what is counted, under which key, and when
a request is refused (TooManyRequests with the seconds until the window ends) is
decided here.

- Logins count FAILURES only, per client IP and per account. Each attempt reserves
  its place in both counts (an atomic increment) BEFORE the password is checked, and
  a success gives it back: of any number of concurrent attempts at most the limit
  get a password check (counting after the check let a burst through untouched).
  A refused attempt gives back what it reserved, so it costs the account nothing
  (one IP cannot lock an owner out) and no CPU is spent on it. The account
  limit is higher than the IP limit: one IP alone cannot lock an owner out, while a
  guesser spread over many IPs is still stopped. A successful login gives back its
  own reservation only, never earlier failures (else a guesser holding one valid
  account could clear its IP's count).
- Registrations and verify-code sends count every attempt per client IP; uploads
  every request per user.

IPv6 clients are counted per /64 network: one host usually holds the whole /64.
A client IP of None (no HTTP request behind the call) is not limited per IP.
"""
import ipaddress
from dataclasses import dataclass

from ..entities import messages
from ..entities.errors import TooManyRequests
from .ports import RateCounter


@dataclass(frozen=True)
class Limit:
    count: int    # most events per window; 0: no limit
    window: int   # seconds


def ip_subject(client_ip: str) -> str:
    """The counted subject of an address: the address, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip  # not an IP (a UNIX socket): counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RateLimiter:
    def __init__(self, counter: RateCounter, login_per_ip: Limit, login_per_account: Limit,
                 register_per_ip: Limit, verify_code_per_ip: Limit,
                 upload_per_user: Limit):
        self.counter = counter
        self.login_per_ip = login_per_ip
        self.login_per_account = login_per_account
        self.register_per_ip = register_per_ip
        self.verify_code_per_ip = verify_code_per_ip
        self.upload_per_user = upload_per_user

    def _login_keys(self, account: str, client_ip: str | None) -> list[tuple[str, Limit]]:
        keys = []  # the IP first: a refused IP then never touches the account's count
        if self.login_per_ip.count and client_ip:
            keys.append(('login:ip:' + ip_subject(client_ip), self.login_per_ip))
        if self.login_per_account.count:
            keys.append(('login:account:' + account, self.login_per_account))
        return keys

    async def reserve_login(self, account: str, client_ip: str | None) -> list[str]:
        """Count one attempt on the IP and on the account, before the password is
        checked; TooManyRequests (with this attempt's counts given back) when either
        is past its limit. Returns the reservation, for `login_succeeded`."""
        reserved = []
        for key, limit in self._login_keys(account, client_ip):
            reserved.append(key)
            if await self.counter.hit(key, limit.window) > limit.count:
                await self._give_back(reserved)
                await self._refuse(key, messages.LOGIN_TOO_MANY)
        return reserved

    async def login_succeeded(self, reservation: list[str]) -> None:
        """The password was right: the attempt was no failure."""
        await self._give_back(reservation)

    async def _give_back(self, keys: list[str]) -> None:
        for key in keys:
            await self.counter.give_back(key)

    async def register(self, client_ip: str | None) -> None:
        await self._take('register:ip', client_ip and ip_subject(client_ip),
                         self.register_per_ip, messages.REGISTER_TOO_MANY)

    async def send_verify_code(self, client_ip: str | None) -> None:
        await self._take('verify_code:ip', client_ip and ip_subject(client_ip),
                         self.verify_code_per_ip, messages.VERIFY_CODE_TOO_MANY)

    async def upload(self, user_id: int) -> None:
        await self._take('upload:user', str(user_id), self.upload_per_user,
                         messages.UPLOAD_TOO_MANY)

    async def _take(self, rule: str, subject: str | None, limit: Limit,
                    message: str) -> None:
        """Count one event; TooManyRequests when it is over the limit."""
        if not limit.count or not subject:
            return
        key = f'{rule}:{subject}'
        if await self.counter.hit(key, limit.window) > limit.count:
            await self._refuse(key, message)

    async def _refuse(self, key: str, message: str) -> None:
        wait = max(1, await self.counter.resets_in(key))
        rule = ':'.join(key.split(':', 2)[:2])  # login:ip, upload:user...
        raise TooManyRequests(wait, message.format(seconds=wait), limit=rule)


class NoLimits:
    """No rate limits (unit tests of other rules): every event is allowed."""

    async def reserve_login(self, account: str, client_ip: str | None) -> list[str]:
        return []

    async def login_succeeded(self, reservation: list[str]) -> None:
        pass

    async def register(self, client_ip: str | None) -> None:
        pass

    async def send_verify_code(self, client_ip: str | None) -> None:
        pass

    async def upload(self, user_id: int) -> None:
        pass


NO_LIMITS = NoLimits()  # stateless: one serves every service
