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

from .errors import InvalidWebhook
from .records import short

SCHEMES = ("http", "https")
MAX_URL = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedAddress(Exception):
    """A host that resolves to an address webhooks may not reach."""


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP address as text) is a public unicast address.

    >>> is_public("93.184.215.14"), is_public("10.0.0.1"), is_public("::ffff:127.0.0.1")
    (True, False, False)
    """
    ip = ipaddress.ip_address(address.partition("%")[0])  # fe80::1%eth0: a link-local zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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
