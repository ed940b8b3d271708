"""Who the client is when reverse proxies stand in front: their X-Forwarded-* headers are believed only from them.

X-Forwarded-For lists every hop, the client's own claim first; each trusted proxy appends the address it saw.
So the client is the right-most hop that is not a trusted proxy: anything left of it may be made up.
"""

from ipaddress import IPv4Network, IPv6Network, ip_address

from werkzeug.wrappers import Request

MAX_ADDRESS_LENGTH = 100
Networks = list[IPv4Network | IPv6Network]


def _trusted(address: str | None, trusted_proxies: Networks) -> bool:
    try:
        parsed = ip_address((address or "").strip())
    except ValueError:
        return False
    return any(parsed in network for network in trusted_proxies)


def client_address_of(request: Request, trusted_proxies: Networks) -> str | None:
    """The peer's address; behind trusted proxies, the right-most X-Forwarded-For hop that is not one of them."""
    address = request.remote_addr
    if not _trusted(address, trusted_proxies):
        return address
    hops = [hop.strip() for header in request.headers.getlist("X-Forwarded-For") for hop in header.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        address = hop[:MAX_ADDRESS_LENGTH]
        if not _trusted(hop, trusted_proxies):
            break
    return address


def came_over_https(request: Request, trusted_proxies: Networks) -> bool:
    """https to us, or to a trusted proxy that says so in X-Forwarded-Proto."""
    if request.scheme == "https":
        return True
    if not _trusted(request.remote_addr, trusted_proxies):
        return False
    return request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower() == "https"
