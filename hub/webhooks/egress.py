"""Where a webhook may be delivered: the hub must not become a way into its own network (SSRF).

A receiver's host is judged the way the connection will see it, not the way it is written. Numeric IPv4 in every
form ``inet_aton`` accepts (``2130706433``, ``127.1``, ``0x7f000001``, ``0177.0.0.1``), IPv6 with or without a zone,
IPv4-mapped and IPv4-embedding IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64) and a trailing dot all lead to the same
address a socket would connect to. Names are resolved at delivery time with the system resolver (the one the HTTP
client would use), **every** address the name resolves to must be public, and the dispatcher then connects to one
of exactly those addresses (:mod:`hub.webhooks.dispatcher`), so a second lookup cannot answer differently
(DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Beside what the ipaddress module calls non-global: spelled out so that the list does not depend on the Python
# version's registry, and names the cloud metadata services' addresses.
BLOCKED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT; Alibaba Cloud metadata at 100.100.100.200
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local; AWS/GCP/Azure metadata at 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments; Oracle Cloud metadata at 192.0.0.192
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/128",
        "::1/128",
        "fc00::/7",  # unique local; AWS IPv6 metadata at fd00:ec2::254
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",  # multicast
        "100::/64",
        "2001:db8::/32",
    )
)

_NUMERIC_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")

# Names that never leave the machine or the site, refused when a webhook is registered in production. The real
# guard is the check at delivery time; this only gives the subscriber an early, clear answer.
_INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
_INTERNAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class BlockedTarget(Exception):
    """The receiver's host is, or resolves to, an address the hub does not deliver to."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.ip_network("64:ff9b::/96") or address in ipaddress.ip_network("::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)  # NAT64 and the old IPv4-compatible form
    return None


def is_blocked(address: Address) -> bool:
    """Loopback, private, link-local, CGNAT, multicast, unspecified, reserved, documentation, metadata: True."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return True  # a zone names a local interface: only link-local addresses carry one
        inner = _embedded_ipv4(address)
        if inner is not None and (inner == ipaddress.IPv4Address(0) or is_blocked(inner)):
            return True
    if any(address.version == net.version and address in net for net in BLOCKED_NETWORKS):
        return True
    return not address.is_global or address.is_multicast


def literal_address(host: str) -> Address | None:
    """The address ``host`` spells, in any form a socket accepts, or None for a name."""
    host = host.rstrip(".").strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_IPV4.fullmatch(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_internal_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES)


def check_host(host: str) -> None:
    """Raise :class:`BlockedTarget` if ``host`` as written already names a blocked address or a local name."""
    address = literal_address(host)
    if (address is not None and is_blocked(address)) or (address is None and is_internal_name(host)):
        raise BlockedTarget(host)


async def resolve_public(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, as connectable strings, if all are public; else BlockedTarget.

    One resolver call (``getaddrinfo``, as the HTTP client would make); the caller connects to one of these and
    never looks the name up again."""
    check_host(host)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host.rstrip(".") or host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError) as exc:
        raise BlockedTarget(host) from exc
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0])
        address = ipaddress.ip_address(text)
        if is_blocked(address):
            raise BlockedTarget(host)
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise BlockedTarget(host)
    return addresses
