"""The engine's dashboard mirror against the real API app (SQLite, served over loopback HTTP),
and its promise never to break a run when the dashboard is down."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.api.app import create_app
from backend.domain.recovery import Sample
from backend.experiment.dashboard import Dashboard, live_marks
from backend.experiment.machine import RunState
from backend.settings import Settings
from tests.api.server import RunningServer, serve

LOG = logging.getLogger("test.dashboard")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'faultline.db'}",
        housekeeping_enabled=False,
        log_json=True,
        log_level="WARNING",
    )
    with serve(create_app(settings)) as running:
        yield running, str(running.app.state.initial_admin_token)


def test_a_run_with_its_observations_and_verdict_reaches_the_dashboard(api) -> None:
    server, token = api
    samples = [Sample(1_800_000_000 + i * 0.2, 40.0, 0.0, 3.0, 9.0, 8) for i in range(10)]

    async def mirror() -> int | None:
        dash = Dashboard(server.base_url, token, LOG)
        run_id = await dash.open_run("shop", "kill-one", {"timing": {}}, None)
        await dash.observations(samples[:6])
        await dash.observations(samples)  # only the 4 new points are sent
        await dash.phase("Observing")
        await dash.phase("Finished", "Passed", {"probes": [{"probe": "web"}]})
        await dash.close()
        return run_id

    run_id = asyncio.run(mirror())
    assert run_id is not None
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as c:
        run = c.get(f"/api/v1/runs/{run_id}").json()
        assert (run["phase"], run["verdict"]) == ("Finished", "passed")
        assert run["experiment_name"] == "kill-one" and run["namespace"] == "shop"
        points = c.get(f"/api/v1/runs/{run_id}/observations").json()["points"]
        assert [p["ts"] for p in points] == pytest.approx([s.t for s in samples])
        exp = c.get("/api/v1/experiments", params={"namespace": "shop"}).json()["items"]
        assert [(e["name"], e["verdict"]) for e in exp] == [("kill-one", "passed")]


def test_the_fault_window_reaches_the_dashboard_while_the_run_goes_on(api) -> None:
    """A live chart shades the fault window before the verdict: each phase change carries it."""
    server, token = api
    t0 = 1_800_000_000.0
    injecting = RunState(phase="Injecting", start=t0, fault_start=t0 + 10)
    recovering = RunState(phase="Recovering", start=t0, fault_start=t0 + 10, fault_end=t0 + 15)
    assert live_marks(RunState(phase="Baseline", start=t0)) is None

    async def mirror(state: RunState) -> int | None:
        dash = Dashboard(server.base_url, token, LOG)
        run_id = await dash.open_run("shop", "live", {"timing": {}}, None)
        await dash.phase(state.phase, metrics=live_marks(state))
        await dash.close()
        return run_id

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers) as c:
        run = c.get(f"/api/v1/runs/{asyncio.run(mirror(injecting))}").json()
        assert (run["phase"], run["verdict"]) == ("Injecting", None)
        assert run["metrics"] == {"fault_started_at": t0 + 10}
        run = c.get(f"/api/v1/runs/{asyncio.run(mirror(recovering))}").json()
        assert run["metrics"] == {"fault_started_at": t0 + 10, "fault_ended_at": t0 + 15}


def test_a_dashboard_that_is_down_never_breaks_the_run(caplog) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there

    async def mirror() -> int | None:
        dash = Dashboard(f"http://127.0.0.1:{port}", "t", LOG)
        run_id = await dash.open_run("ns", "x", {}, None)
        await dash.observations([Sample(1.0, 1.0)])
        await dash.phase("Finished", "Failed")
        await dash.close()
        return run_id

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(mirror()) is None
    assert "dashboard GET /experiments failed" in caplog.text
