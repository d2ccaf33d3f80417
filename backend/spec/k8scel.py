"""Python twins of the Kubernetes CEL library functions our CRD rules call: `isIP` and `isCIDR`.

The API server runs Kubernetes' own functions (k8s.io/apiserver/pkg/cel/library, Go's
net/netip underneath); these reproduce their answers for the Python side of each `Rule`.
cel-python has no such library, so the unit test that runs every CEL rule registers these very
functions in its interpreter: that test checks the rest of each expression, and
tests/e2e/test_crd_validation.py checks these functions against the real API server on a table
of IPv4 and IPv6 edge cases. They need Kubernetes 1.31 or newer (the IP and CIDR libraries
arrive in the CRD environment there).
"""

from __future__ import annotations

import ipaddress
import re

_BITS_RE = re.compile(r"0|[1-9][0-9]*")
"""netip.ParsePrefix: ASCII digits, no sign, no leading zero."""


def _addr(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # Go's netip.ParseAddr, minus what Kubernetes refuses on top: zones and IPv4-mapped IPv6.
    # Python's parser, like Go's, refuses leading zeros in IPv4 octets.
    if "%" in text or not text.isascii():
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return None
    return addr


def is_ip(text: str) -> bool:
    """CEL `isIP(text)`: an IPv4 or IPv6 address, no prefix, no zone, not IPv4-mapped."""
    return _addr(text) is not None


def is_cidr(text: str) -> bool:
    """CEL `isCIDR(text)`: an address, `/`, and a prefix length its family allows (0-32 for
    IPv4, 0-128 for IPv6). Host bits may be set (10.0.0.1/8), as in Kubernetes."""
    address, slash, bits = text.rpartition("/")
    addr = _addr(address) if slash else None
    if addr is None or not _BITS_RE.fullmatch(bits):
        return False
    return int(bits) <= addr.max_prefixlen
