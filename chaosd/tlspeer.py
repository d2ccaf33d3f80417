"""Tell the app who is on the other end of a TLS connection.

uvicorn verifies a client certificate against the CA (`CERT_REQUIRED`) but does not pass the
certificate on to the app, and a CA check alone would let any certificate that CA ever signed
drive chaosd. This protocol reads the verified peer certificate once per connection, right after
the handshake, and puts its names (CN, DNS and URI SANs) into every request's
`scope["extensions"]`, where chaosd/gate.py compares them with the configured identity before
reading a byte of the body.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from chaosd.auth import certificate_identities
from chaosd.gate import IDENTITIES_KEY, Receive, Scope, Send


class PeerIdentityProtocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        peer: dict[str, Any] | None = ssl_object.getpeercert() if ssl_object else None
        names = certificate_identities(peer) if peer else []
        inner = self.app

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            scope["extensions"] = {**(scope.get("extensions") or {}), IDENTITIES_KEY: list(names)}
            await inner(scope, receive, send)

        self.app = app  # per connection: uvicorn makes one protocol object per connection
