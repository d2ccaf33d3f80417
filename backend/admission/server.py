"""The webhook's HTTP side: AdmissionReview in, AdmissionReview out, nothing decided here.

The API server calls `/mutate` (record the creator) and `/validate` (judge the targets) over TLS.
A body that is too large or is not an AdmissionReview gets a 4xx without reaching the review
logic; the API server then refuses the request (failurePolicy: Fail), so a malformed call can
neither crash the webhook nor slip through it. Every decision is logged with the object's
namespace and name.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from backend.admission.review import May, Verdict, judge, record, requester
from backend.domain.limits import TargetLimits

log = logging.getLogger("faultline.admission")

MAX_BODY = 8 * 1024 * 1024
"""An AdmissionReview carries the object and, on UPDATE, the old one: each at most etcd's
1.5 MiB by default, JSON-escaped. Anything larger is not from the API server."""
Decide = Callable[[dict[str, Any]], Verdict]
REVIEW = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}


@dataclass(frozen=True)
class Webhook:
    trusted: Collection[str]
    """Usernames of this release's operator and dashboard ServiceAccounts."""
    may: May
    stopped: Callable[[], str | None]
    limits: TargetLimits
    """The operator's target limits, from the same chart values."""


class BadReview(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read(request: Request) -> dict[str, Any]:
    """The AdmissionReview's `request`, read without ever buffering more than MAX_BODY."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise BadReview(413, f"body over {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadReview(413, f"body over {MAX_BODY} bytes")
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise BadReview(400, f"not JSON: {e}") from e
    if not isinstance(doc, dict) or doc.get("kind") != "AdmissionReview":
        raise BadReview(400, "not an AdmissionReview")
    req = doc.get("request")
    if not isinstance(req, dict) or not isinstance(req.get("uid"), str):
        raise BadReview(400, "an AdmissionReview request needs uid and userInfo")
    if not isinstance(req.get("userInfo"), dict):
        raise BadReview(400, "an AdmissionReview request needs uid and userInfo")
    return req


def _response(req: dict[str, Any], verdict: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {"uid": req["uid"], "allowed": verdict.allowed}
    if not verdict.allowed:
        out["status"] = {"code": 403, "reason": "Forbidden", "message": verdict.message}
    if verdict.patch:
        out["patchType"] = "JSONPatch"
        out["patch"] = base64.b64encode(json.dumps(list(verdict.patch)).encode()).decode()
    return {**REVIEW, "response": out}


def _log(step: str, req: dict[str, Any], verdict: Verdict, started: float) -> None:
    obj = req.get("object") if isinstance(req.get("object"), dict) else req.get("oldObject")
    meta = (obj or {}).get("metadata") or {}
    log.info(
        "%s %s %s %s/%s by %s: %s%s",
        step, req.get("operation"), (req.get("kind") or {}).get("kind"),
        req.get("namespace"), meta.get("name") or meta.get("generateName", ""),
        requester(req).username, "allowed" if verdict.allowed else "denied",
        f" ({verdict.message})" if verdict.message else "",
        extra={
            # Not "name": LogRecord has its own attribute by that name.
            "object_namespace": req.get("namespace"), "object_name": meta.get("name"),
            "allowed": verdict.allowed, "ms": round((time.monotonic() - started) * 1000, 1),
        },
    )  # fmt: skip


def create_app(hook: Webhook) -> FastAPI:
    app = FastAPI(title="Faultline admission webhook", openapi_url=None, docs_url=None)

    async def serve(
        step: str, request: Request, decide: Callable[[dict[str, Any]], Verdict]
    ) -> Any:
        started = time.monotonic()
        try:
            req = await _read(request)
        except BadReview as e:
            log.warning("%s: refused a malformed review: %s", step, e)
            return JSONResponse({"detail": str(e)}, status_code=e.status)
        try:
            verdict = await run_in_threadpool(decide, req)
        except Exception as e:  # fail closed, and say why, rather than a 500 the user can't read
            log.exception("%s: review failed", step)
            verdict = Verdict(False, f"Faultline's admission webhook could not decide: {e}")
        _log(step, req, verdict, started)
        return _response(req, verdict)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/mutate")
    async def mutate(request: Request) -> Any:
        return await serve("mutate", request, lambda req: record(req, hook.trusted))

    @app.post("/validate")
    async def validate(request: Request) -> Any:
        return await serve(
            "validate",
            request,
            lambda req: judge(
                req, trusted=hook.trusted, may=hook.may, stopped=hook.stopped, limits=hook.limits
            ),
        )

    return app
