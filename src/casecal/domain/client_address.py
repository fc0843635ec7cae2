"""The client's address behind reverse proxies: ``X-Forwarded-For`` is believed only from the
proxies the operator configured (addresses or CIDR networks), read from the right."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


def trusted_networks(entries: Iterable[str]) -> list[Network]:
    """The configured proxies as networks (a bare address is a network of one); a malformed
    entry is an operator's mistake and raises ``ValueError`` naming it."""
    found: list[Network] = []
    for entry in entries:
        try:
            found.append(ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"trusted_proxies: {entry!r} is not an address or network") from exc
    return found


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client: the peer itself unless it is a trusted proxy; then the right-most address of
    ``X-Forwarded-For`` (every header, in order) that is not a trusted proxy. Entries left of
    an untrusted hop were written by the client and prove nothing; a malformed hop ends the
    walk at the last proxy that wrote it."""
    if not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    current = peer
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            return current
        current = hop
        if not _is_trusted(hop, trusted):
            return hop
    return current
