"""No request forgery into the exchange's own network: in production an upstream must resolve
only to public addresses (OWASP SSRF prevention; RFC 6890 special-purpose ranges)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUpstream(ValueError):
    """The reason an upstream URL is refused."""


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _private(address.ipv4_mapped)
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an upstream URL; UnsafeUpstream when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeUpstream("must be an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUpstream("must not carry credentials (set auth_header and auth_secret)")
    if parts.query or parts.fragment:
        raise UnsafeUpstream("must have no query or fragment")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeUpstream("has an invalid port") from exc
    if not parts.hostname:
        raise UnsafeUpstream("has no host")
    return parts.scheme, parts.hostname, port


async def check_public(url: str) -> None:
    """Refuse an upstream any of whose addresses is loopback, private, link-local or otherwise
    not public (every address is checked: a name resolving to one public and one private
    address would let the connection pick the private one)."""
    _, host, port = parse(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise UnsafeUpstream(f"{host} does not resolve") from exc
        found = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    else:
        found = {literal}
    refused = sorted(str(a) for a in found if _private(a))
    if refused:
        raise UnsafeUpstream(
            f"{host} resolves to {', '.join(refused)}: loopback, private and link-local upstreams "
            "are refused in production"
        )
