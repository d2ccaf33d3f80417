"""Client for a node's chaosd: send a target's complete desired fault set, renew, recover.

The operator never sends deltas: every call carries the whole set for the target, so a retried
or duplicated call is harmless and two chaos objects acting on one pod compose (the operator
sends their union).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chaosd.model import DesiredState


class ChaosdError(Exception):
    """chaosd answered with an error, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class ChaosdUnreachable(ChaosdError):
    """The daemon did not answer (node down, daemon restarting, network cut)."""


@dataclass(frozen=True)
class ChaosdTLS:
    """mTLS material: chaosd's CA, the operator's client pair, and the name chaosd's certificate
    carries. The operator dials pod IPs, so the certificate is checked against `server_name`
    (sent as SNI) instead of the address."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    server_name: str | None = None

    def context(self) -> ssl.SSLContext:
        try:
            ctx = ssl.create_default_context(cafile=str(self.ca_file))
            ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        except (OSError, ssl.SSLError) as e:
            raise ChaosdError(
                f"chaosd TLS: cannot load CA {self.ca_file} or client pair {self.cert_file} / "
                f"{self.key_file}: {e}",
                retryable=False,
            ) from e
        return ctx


class ChaosdClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        timeout: float = 10.0,
        verify: Any = True,
        tls: ChaosdTLS | None = None,
    ):
        """`token`: bearer token (None with mTLS alone); `tls`: client certificate and CA."""
        self._extensions: dict[str, Any] = {}
        if tls is not None:
            verify = tls.context()
            if tls.server_name:
                self._extensions["sni_hostname"] = tls.server_name
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=timeout,
            verify=verify,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChaosdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = self._http.request(method, path, extensions=self._extensions, **kw)
        except httpx.HTTPError as e:
            raise ChaosdUnreachable(f"chaosd at {self._http.base_url} unreachable: {e}") from e
        if resp.status_code == 404 and method == "DELETE":
            return None  # already recovered
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text
            raise ChaosdError(
                f"chaosd {method} {path}: {resp.status_code}: {detail}",
                status=resp.status_code,
                retryable=resp.status_code >= 500 or resp.status_code == 409,
            )
        return resp.json() if resp.content else None

    def put_target(self, target_id: str, desired: DesiredState) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PUT", f"/targets/{target_id}", json=desired.model_dump(mode="json")
        )
        return result

    def get_target(self, target_id: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._call("GET", f"/targets/{target_id}")
            return result
        except ChaosdError as e:
            if e.status == 404:
                return None
            raise

    def list_targets(self) -> list[dict[str, Any]]:
        result = self._call("GET", "/targets")
        return list(result if isinstance(result, list) else result.get("targets", []))

    def renew(self, target_id: str) -> None:
        self._call("POST", f"/targets/{target_id}/renew")

    def delete_target(self, target_id: str) -> None:
        self._call("DELETE", f"/targets/{target_id}")

    def signal(self, pid: int, signal: int = 9) -> None:
        self._call("POST", "/signal", json={"pid": pid, "signal": signal})

    def leak_repairs(self, after: int = 0) -> dict[str, Any]:
        """The node's leak-scan repairs numbered above `after`, and the last number."""
        result: dict[str, Any] = self._call("GET", "/doctor/repairs", params={"after": after})
        return result

    def resolve_container(self, container_id: str) -> int:
        result = self._call("GET", "/containers/resolve", params={"containerID": container_id})
        return int(result["pid"])


def ready_endpoints(pods: Iterable[Mapping[str, Any]], port: int, scheme: str) -> dict[str, str]:
    """node name -> base URL of the chaosd pod there, from the DaemonSet's pods as the API
    server lists them (Ready pods with an IP only)."""
    out: dict[str, str] = {}
    for pod in pods:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        conditions = status.get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        if ready and spec.get("nodeName") and status.get("podIP"):
            out[spec["nodeName"]] = f"{scheme}://{status['podIP']}:{port}"
    return out
