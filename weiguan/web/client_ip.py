"""The client's IP address, for the rate limits.

The socket's peer, unless TRUSTED_PROXY_COUNT says that many reverse proxies stand
in front of the server: then the X-Forwarded-For entry that many hops from the right
(each proxy appends the address it saw, so entries further left are the client's
word and could be anything). Too few entries: the socket's peer.

Sanic already does exactly this with its PROXIES_COUNT setting (`request.client_ip`),
so it is used rather than parsed again here; the headers it would otherwise trust on
its own settings (a "real IP" header, RFC 7239 Forwarded with a secret) stay off."""
import ipaddress

from sanic import Request, Sanic


def install_client_ip(app: Sanic, trusted_proxy_count: int) -> None:
    app.config.PROXIES_COUNT = max(0, trusted_proxy_count)
    app.config.REAL_IP_HEADER = None
    app.config.FORWARDED_SECRET = None


def client_ip(request: Request) -> str:
    """The address in its normal text form (IPv6 without brackets); whatever else
    the socket names (a UNIX socket path) as it is."""
    address = request.client_ip.strip('[]')
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address
