"""The exchange's one identifier scheme: every object's IRI, under the public base URL.

An object's IRI is the address of the object in the API, so it resolves: asked for
`application/ld+json` (or `text/turtle`) it answers the object's linked-data description, and
for JSON the usual API view. The catalogue, the offers, the licences, the grants and the
registry certificates all name things through this class, so a dataset in the catalogue, the
target of a licence and the subject of a certificate are the same IRI.

| object | IRI |
|---|---|
| the catalogue | `{base}/v1/catalog` |
| a product (a `dcat:Dataset`) | `{base}/v1/products/{id}` |
| its distribution; an API product's data service | `{product}#distribution`; `{product}#service` |
| a product's offer (`odrl:Offer`) | `{base}/v1/products/{id}/offer` |
| a participant (`foaf:Agent`) | `{base}/v1/participants/{id}` |
| a data resource | `{base}/v1/resources/{id}` |
| a registration | `{base}/v1/registrations/{id}` |
| a registration certificate | `{base}/v1/registry/{registration number}` |
| a right grant | `{base}/v1/grants/{id}` |
| a licence (`odrl:Agreement`) | `{base}/v1/licences/{id}` |
| the exchange's vocabulary, its terms | `{base}/ns/market`, `{base}/ns/market#{term}` |
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from contracts.odrl_terms import ODRL_TERMS, PROFILE_PREFIX

PREFIXES: dict[str, str] = {
    "adms": "http://www.w3.org/ns/adms#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatap": "http://data.europa.eu/r5r/",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
VOCABULARY_PATH = "/ns/market"


@dataclass(frozen=True)
class Iris:
    """Every IRI the exchange mints, under one public base URL (no trailing slash)."""

    base: str

    @property
    def vocabulary(self) -> str:
        return f"{self.base}{VOCABULARY_PATH}"

    @property
    def namespace(self) -> str:
        return f"{self.vocabulary}#"

    def term(self, local_name: str) -> str:
        return f"{self.namespace}{local_name}"

    @property
    def exchange(self) -> str:
        """The exchange itself, as the publisher of its catalogue and issuer of certificates."""
        return self.term("exchange")

    @property
    def contact_point(self) -> str:
        return self.term("contact")

    @property
    def catalogue(self) -> str:
        return f"{self.base}/v1/catalog"

    def product(self, product_id: object) -> str:
        return f"{self.base}/v1/products/{product_id}"

    def distribution(self, product_id: object) -> str:
        return f"{self.product(product_id)}#distribution"

    def data_service(self, product_id: object) -> str:
        return f"{self.product(product_id)}#service"

    def gateway(self, product_id: object) -> str:
        """Where an API product's buyers call it: the exchange's gateway (docs/api.md)."""
        return f"{self.base}/gateway/{product_id}/"

    def offer(self, product_id: object) -> str:
        return f"{self.product(product_id)}/offer"

    def participant(self, participant_id: object) -> str:
        return f"{self.base}/v1/participants/{participant_id}"

    def resource(self, resource_id: object) -> str:
        return f"{self.base}/v1/resources/{resource_id}"

    def registration(self, registration_id: object) -> str:
        return f"{self.base}/v1/registrations/{registration_id}"

    def certificate(self, registration_number: str) -> str:
        return f"{self.base}/v1/registry/{quote(registration_number, safe='')}"

    def grant(self, grant_id: object) -> str:
        return f"{self.base}/v1/grants/{grant_id}"

    def licence(self, licence_id: object) -> str:
        return f"{self.base}/v1/licences/{licence_id}"

    def context(self) -> dict[str, Any]:
        """The inline JSON-LD context of every document: the prefixes, the ODRL terms, `mkt`."""
        return {**PREFIXES, PROFILE_PREFIX: self.namespace, **ODRL_TERMS}

    def document(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON-LD document: `body` (a node, or `{"@graph": [...]}`) under the inline context."""
        return {"@context": self.context(), **body}


# What a Host or X-Forwarded-Host value may be: a DNS name, IPv4 or bracketed IPv6, and a port.
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$"
)
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~-]+)*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def valid_base_url(url: str) -> str:
    """`url` as a public base URL (`https://host[:port][/prefix]`, no trailing slash), or ValueError."""
    match = re.fullmatch(r"(https?)://([^/?#]+)((?:/[^/?#]+)*)/?", url.strip())
    if not match or not _HOST.match(match.group(2)) or not _PREFIX.match(match.group(3)):
        raise ValueError(f"{url!r} is not a base URL like https://data.example.cn or http://host:8000/prefix")
    return f"{match.group(1)}://{match.group(2).lower()}{match.group(3)}"


def trusted_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated IP addresses or networks (CIDR) of the proxies whose headers count."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _first(value: str | None) -> str | None:
    """The first hop of a comma-separated forwarded value: what the outermost proxy saw."""
    if not value:
        return None
    return value.split(",")[0].strip().strip('"') or None


def _forwarded(header: str | None) -> dict[str, str]:
    """The first element of an RFC 7239 `Forwarded` header, as lower-cased parameter names."""
    element = header.split(",")[0] if header else ""
    out: dict[str, str] = {}
    for pair in element.split(";"):
        name, _, value = pair.partition("=")
        if value:
            out[name.strip().lower()] = value.strip().strip('"')
    return out


def _is_trusted(
    client_host: str | None, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    if not client_host or not networks:
        return False
    try:
        address = ipaddress.ip_address(client_host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def request_base_url(
    *,
    scheme: str,
    headers: Mapping[str, str],
    server: tuple[str, int | None] | None,
    root_path: str,
    client_host: str | None,
    trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The base URL a client used to reach the service, when none is configured.

    From the request's own scheme and `Host`; from `Forwarded` (RFC 7239) or the
    `X-Forwarded-Proto/-Host/-Port/-Prefix` headers only when the direct peer is one of the
    `trusted` proxies, since anyone else could send them. A value that is not a plain scheme,
    host or path is ignored rather than copied into IRIs.
    """
    host = headers.get("host")
    if not host or not _HOST.match(host):
        host = _server_host(scheme, server)
    prefix = root_path.rstrip("/") if _PREFIX.match(root_path.rstrip("/")) else ""
    if _is_trusted(client_host, trusted):
        forwarded = _forwarded(headers.get("forwarded"))
        proto = forwarded.get("proto") or _first(headers.get("x-forwarded-proto"))
        if proto and proto.lower() in _DEFAULT_PORTS:
            scheme = proto.lower()
        forwarded_host = forwarded.get("host") or _first(headers.get("x-forwarded-host"))
        if forwarded_host and _HOST.match(forwarded_host):
            host = forwarded_host
            port = _first(headers.get("x-forwarded-port"))
            if (
                ":" not in host.rsplit("]", 1)[-1]
                and port
                and port.isdigit()
                and int(port) != _DEFAULT_PORTS[scheme]
            ):
                host = f"{host}:{port}"
        forwarded_prefix = _first(headers.get("x-forwarded-prefix"))
        if forwarded_prefix and _PREFIX.match(forwarded_prefix.rstrip("/")):
            prefix = forwarded_prefix.rstrip("/")
    return f"{scheme}://{_without_default_port(scheme, host.lower())}{prefix}"


def _server_host(scheme: str, server: tuple[str, int | None] | None) -> str:
    if server is None:
        return "localhost"
    name, port = server
    return name if port is None else f"{name}:{port}"


def _without_default_port(scheme: str, host: str) -> str:
    suffix = f":{_DEFAULT_PORTS.get(scheme)}"
    return host[: -len(suffix)] if host.endswith(suffix) else host
