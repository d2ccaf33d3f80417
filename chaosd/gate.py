"""The door in front of chaosd's API: who is asking, and how much they may send.

It is plain ASGI, wrapped around the FastAPI app, because FastAPI reads (and buffers) a request
body before any dependency runs: an unauthenticated caller could make chaosd hold a body of any
size just by sending it. Here a request is judged from its headers and TLS peer alone; a refusal
is answered at once with `Connection: close`, so the server stops reading the connection and the
unread body is never stored. An accepted body is read up to the limit, counting the bytes as they
arrive (a chunked body has no Content-Length to trust), and refused with 413 past it. Open paths
(/healthz) skip authentication, never the limit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chaosd.auth import AuthConfig, authenticate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 1024 * 1024
IDENTITIES_KEY = "faultline.client_identities"
"""Where chaosd/tlspeer.py leaves the client certificate's names in `scope["extensions"]`."""


class Gate:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: AuthConfig,
        max_body: int = DEFAULT_MAX_BODY,
        open_paths: frozenset[str] = frozenset({"/healthz"}),
    ) -> None:
        if max_body < 1:
            raise ValueError(f"max_body: must be at least 1 byte, not {max_body}")
        self.app = app
        self.auth = auth
        self.max_body = max_body
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        # Open paths skip authentication, never the size limit: the server would otherwise read
        # (and discard) any body sent to /healthz before it answered the next request.
        if scope["path"] not in self.open_paths:
            identities = scope.get("extensions", {}).get(IDENTITIES_KEY, [])
            refusal = authenticate(
                self.auth, authorization=headers.get("authorization", ""), identities=identities
            )
            if refusal is not None:
                await _answer(send, refusal.status, refusal.detail, refusal.headers)
                return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _answer(send, 413, self._too_large(f"Content-Length {declared}"))
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nothing to answer
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await _answer(send, 413, self._too_large(f"more than {self.max_body} bytes"))
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    def _too_large(self, what: str) -> str:
        return (
            f"request body too large: {what}; chaosd accepts at most {self.max_body} bytes "
            "(--max-body-bytes)"
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """Hand the app the body already read, then defer to the server (for disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(
    send: Send, status: int, detail: str, extra: dict[str, str] | None = None
) -> None:
    payload = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        # Close: the server must not go on reading a body nobody will use.
        (b"connection", b"close"),
        *[(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()],
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
