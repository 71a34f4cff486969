"""Who the client is: the socket peer, or the address trusted proxies say they received the request from.

An HTTP concern (``X-Forwarded-For``, ``LEGATO_TRUSTED_PROXIES``), so it lives in the gateway (beside the
settings that parse the proxy list, which the HTTP layer reads); accounts
receives the resulting address as a plain string for its per-client login throttling (docs/accounts.md).
"""

from __future__ import annotations

import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """``LEGATO_TRUSTED_PROXIES``: comma-separated addresses or CIDR networks."""
    parts = (part.strip() for part in value.split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def _trusted(address: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[IPNetwork, ...]) -> str | None:
    """The client's address for throttling. The socket peer is the client unless it is a configured
    proxy; only then is ``X-Forwarded-For`` read, from the right (the hops our proxies appended),
    skipping further trusted proxies: the first untrusted hop is the client. Anything left of it was
    written by the client and is never believed."""
    if peer is None or not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: fall back to the proxy rather than trust garbage
    # Every hop is one of ours: the leftmost proxy is the nearest thing to a client there is.
    return hops[0] if hops else peer
