"""Which URLs the Worker fetches on a client's behalf (image URLs in chat), hop by hop.

Only http(s); never an IP literal in a private, loopback, link-local (cloud metadata),
shared, multicast or reserved range, in any notation a URL parser accepts (`2130706433`,
`0x7f.1`, `0177.0.0.1`, `[::ffff:127.0.0.1]`), nor a `localhost` name. With IMAGE_URL_HOSTS set,
only the hosts listed there, which are then trusted as the operator's own (even a private
address: that is how a local test or an intranet image host is allowed). Names are not
resolved here (Workers has no DNS API); Cloudflare's own egress does not reach private networks.
Every redirect target is checked again (`follow` in `upstream.vision`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class Refused(ValueError):
    """A URL the policy does not fetch; the message is for logs, not for the client."""


def _ipv4_number(part: str) -> int | None:
    """One dotted part as the WHATWG URL parser reads it: decimal, 0x hex or 0-led octal."""
    if not part:
        return None
    try:
        if part[:2].lower() == "0x":
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10)
    except ValueError:
        return None


def ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The address a host written as an IPv4 literal in any accepted notation stands for."""
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = numbers  # type: ignore[misc]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if host.startswith("[") and host.endswith("]"):
        try:
            address = ipaddress.IPv6Address(host[1:-1].split("%")[0])
        except ValueError:
            raise Refused(f"unparsable IPv6 literal {host}") from None
        return address.ipv4_mapped or address.sixtofour or address
    return ipv4_literal(host)


def check(url: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """`url` if the policy lets the Worker fetch it, else `Refused` saying why."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("unparsable URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise Refused(f"scheme {parts.scheme!r}")
    host = (parts.hostname or "").lower()
    if parts.netloc.rpartition("@")[2].startswith("["):
        host = f"[{host}]"
    if not host:
        raise Refused("no host")
    if allowed_hosts:
        named = {host, f"{host}:{port}" if port else host}
        if not named & set(allowed_hosts):
            raise Refused(f"host {host} is not in IMAGE_URL_HOSTS")
        return url
    bare = host.rstrip(".")
    if bare in _LOCAL_NAMES or bare.endswith(".localhost"):
        raise Refused(f"local name {host}")
    address = _address(host)
    if address is not None and (not address.is_global or address.is_multicast):
        raise Refused(f"non-public address {address}")
    return url
