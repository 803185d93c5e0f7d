"""Where webhooks may be sent. A URL is absolute http(s) with a host and no credentials; in
production it must be https and every address its host resolves to must be public: no
loopback, private, link-local, multicast or reserved target (a webhook must not become a way to
reach the exchange's own network). The check runs when the endpoint is registered and again
before each delivery, since DNS answers change."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from market.errors import InvalidInput

FIELD = "body.url"


def parse(url: str, *, production: bool) -> tuple[str, int]:
    """(host, port) of a well-formed webhook URL, or InvalidInput naming the reason."""
    parts = urlsplit(url)
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise InvalidInput("webhook URLs use " + " or ".join(allowed), fields=[(FIELD, "scheme")])
    if not parts.hostname:
        raise InvalidInput("the webhook URL has no host", fields=[(FIELD, "no host")])
    if parts.username or parts.password:
        raise InvalidInput(
            "put no credentials in the URL: deliveries are signed", fields=[(FIELD, "credentials")]
        )
    if parts.fragment:
        raise InvalidInput("a webhook URL has no #fragment", fields=[(FIELD, "fragment")])
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("the port is not a number in 1-65535", fields=[(FIELD, "port")]) from None
    return parts.hostname, port


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check(url: str, *, production: bool) -> None:
    """Refuse a URL that is malformed or, in production, not a public https target."""
    host, port = parse(url, production=production)
    if not production:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(f"{host} does not resolve", fields=[(FIELD, "host does not resolve")]) from None
    addresses = {str(info[4][0]) for info in infos}
    private = sorted(a for a in addresses if not is_public(a))
    if private or not addresses:
        raise InvalidInput(
            f"{host} resolves to addresses that are not public ({', '.join(private)})",
            fields=[(FIELD, "loopback, private or reserved target")],
        )
