"""Where webhooks may go: ``http`` and ``https`` URLs whose host is on public addresses only.

A URL is checked when its endpoint is added (:func:`check_url`) and its host is resolved again
each time a delivery opens a connection (:func:`public_addresses`, through
:class:`consent.delivery.GuardedBackend`): a name may point elsewhere by then (DNS rebinding).
Private, loopback, link-local, shared, reserved and multicast addresses are refused unless
``allow_private``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from .errors import InvalidWebhook, short

SCHEMES = ("http", "https")
MAX_URL = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedAddress(Exception):
    """A host that resolves to an address webhooks may not reach."""


_CARRY_IPV4 = tuple(ipaddress.IPv6Network(prefix) for prefix in (
    "64:ff9b::/96", "::ffff:0:0/96", "::/96"))
"""IPv6 prefixes whose addresses carry an IPv4 address in their last 32 bits, which a
translator reaches: NAT64's well-known prefix, the IPv4-translated and the deprecated
IPv4-compatible forms (the IPv4-mapped and 6to4 ones :mod:`ipaddress` reads itself)."""
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
"""NAT64 prefixes for a network's own use (RFC 8215), which reach its own IPv4 addresses."""


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP address as text) is a public unicast address; an IPv6
    address that carries an IPv4 one (mapped, NAT64, 6to4…) is public when that one is.

    >>> is_public("93.184.215.14"), is_public("10.0.0.1"), is_public("::ffff:127.0.0.1")
    (True, False, False)
    >>> is_public("64:ff9b::808:808"), is_public("64:ff9b::a9fe:a9fe"), is_public("2002:7f00:1::")
    (True, False, False)
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    ip = ipaddress.ip_address(address.partition("%")[0])  # fe80::1%eth0: a link-local zone
    if isinstance(ip, ipaddress.IPv6Address):
        carried = ip.ipv4_mapped or ip.sixtofour or next(
            (ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF) for prefix in _CARRY_IPV4 if ip in prefix),
            None)
        if carried is not None:
            ip = carried
        elif ip in _LOCAL_NAT64 or ip.is_site_local or ip.is_reserved:  # Python < 3.12 calls
            return False  # them global
    return ip.is_global and not ip.is_multicast


def public_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses of ``host`` to connect to; raises :class:`RefusedAddress` when one of them
    is not public (unless ``allow_private``) and :class:`OSError` when the name does not
    resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            where = "is" if refused[0] == host else f"resolves to {refused[0]},"
            raise RefusedAddress(
                f"{host} {where} a private, loopback or link-local address: "
                f"webhooks are not sent there unless termsledger.toml has [webhooks] "
                f"allow_private = true")
    return addresses


def check_url(url: object, *, allow_private: bool = False) -> str:
    """``url`` if webhooks may be sent to it, else :class:`InvalidWebhook` saying why: it must
    be an ``http`` or ``https`` URL of at most 2,048 printable ASCII characters, without user
    name, password or fragment, whose host resolves to public addresses only (unless
    ``allow_private``)."""
    if not isinstance(url, str) or not url:
        raise InvalidWebhook(f"a webhook URL must be text, not {short(url)}")
    if len(url) > MAX_URL:
        raise InvalidWebhook(f"a webhook URL must be at most {MAX_URL} characters, not {len(url)}")
    if not (url.isascii() and url.isprintable()) or " " in url:
        raise InvalidWebhook(f"a webhook URL must be printable ASCII without spaces (write an "
                             f"international name in its xn-- form): {short(url)}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidWebhook(f"the webhook URL {short(url)} is malformed: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InvalidWebhook(f"a webhook URL must start with http:// or https://, not "
                             f"{short(url)}")
    host = parts.hostname
    if not host:
        raise InvalidWebhook(f"the webhook URL {short(url)} has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhook(f"the webhook URL of host {host} must not hold a user name or "
                             f"password: the signature authenticates the sender")
    if parts.fragment or url.endswith("#"):
        raise InvalidWebhook(f"the webhook URL {short(url)} must not have a fragment (#...)")
    try:
        public_addresses(host, port or _DEFAULT_PORTS[scheme], allow_private=allow_private)
    except RefusedAddress as error:
        raise InvalidWebhook(f"the webhook URL {short(url)} is refused: {error}") from None
    except (OSError, UnicodeError) as error:
        raise InvalidWebhook(f"the host of the webhook URL {short(url)} cannot be resolved "
                             f"({error})") from None
    return url
