"""The demo's dashboard: a local-mode dashboard server that records the demo's run.

The server outlives the demo (so the result stays browsable at the printed URL); re-running the
demo reuses it. Its data and token live under .state/demo/dashboard.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from backend.api.admin import create_token
from backend.settings import Settings


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


PORT = int(os.environ.get("FAULTLINE_DEMO_DASHBOARD_PORT", "8080"))


class Dashboard:
    def __init__(self, state: Path):
        self.dir = state / "dashboard"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.url = f"http://127.0.0.1:{PORT}"
        token_file = self.dir / "token"
        if not token_file.exists():
            settings = Settings(data_dir=self.dir, mode="local", log_json=False)
            token_file.write_text(create_token(settings, "demo", "admin"))
            token_file.chmod(0o600)
        self.token = token_file.read_text().strip()
        self.http = httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )

    def ensure_running(self) -> None:
        if self._healthy():
            return
        env = {
            **os.environ,
            "FAULTLINE_DATA_DIR": str(self.dir),
            "FAULTLINE_MODE": "local",
            "FAULTLINE_LISTEN": f"127.0.0.1:{PORT}",
        }
        with open(self.dir / "server.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "backend.api"],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # keeps serving after the demo exits
            )
        (self.dir / "server.pid").write_text(str(proc.pid))
        for _ in range(300):
            if self._healthy():
                return
            if proc.poll() is not None:
                raise RuntimeError(f"dashboard exited; see {self.dir / 'server.log'}")
            time.sleep(0.1)
        raise RuntimeError("dashboard did not answer /healthz")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.http.request(method, path, **kw)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def start_run(self, *, name: str, title: str, description: str, spec: dict[str, Any]) -> int:
        existing = self._call("GET", "/experiments", params={"namespace": "standalone"})["items"]
        exp = next((e for e in existing if e["name"] == name), None)
        if exp is None:
            hyp = self._call(
                "POST",
                "/hypotheses",
                json={
                    "namespace": "standalone",
                    "title": title,
                    "description": description,
                    "tolerances": [
                        {"probe": "web", "recoverTo": 90, "within": "10s", "from": "faultEnd"}
                    ],
                },
            )
            exp = self._call(
                "POST",
                "/experiments",
                json={
                    "namespace": "standalone",
                    "name": name,
                    "description": description,
                    "hypothesis_id": hyp["id"],
                    "spec": spec,
                },
            )
        run = self._call("POST", f"/experiments/{exp['id']}/runs", json={"phase": "Baseline"})
        return int(run["id"])

    def observe(self, run: int, points: list[dict[str, Any]]) -> None:
        self._call("POST", f"/runs/{run}/observations:batch", json={"points": points})

    def event(self, run: int, reason: str, message: str, ts: float) -> None:
        self._call(
            "POST",
            f"/runs/{run}/events:batch",
            json={
                "events": [{"ts": _iso(ts), "type": "Normal", "reason": reason, "message": message}]
            },
        )

    def phase(self, run: int, phase: str) -> None:
        self._call("PATCH", f"/runs/{run}", json={"phase": phase})

    def finish(self, run: int, *, verdict: str, metrics: dict[str, Any]) -> None:
        self._call(
            "PATCH",
            f"/runs/{run}",
            json={"phase": "Finished", "verdict": verdict, "metrics": metrics},
        )
