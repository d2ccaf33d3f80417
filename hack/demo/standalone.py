"""The standalone demo: a real experiment with a hypothesis, on this host, without Kubernetes.

A service runs in a network namespace the demo creates. chaosd (the node daemon, started here)
partitions it from its clients for 10 s while the load probe measures QPS. The demo computes the
baseline, the dip and the time to recover, and checks the hypothesis:

    "When the service is cut off from its clients for 10 s, QPS drops, and within 10 s of the
     partition healing it is back to >= 90% of its baseline."

Everything it creates (namespace, veth, processes, chaosd state) is removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from dashboard import Dashboard  # hack/demo, next to this file
from rich.console import Console
from rich.table import Table

from backend.clients.chaosd import ChaosdClient
from backend.domain.recovery import Sample, baseline_of, recovery_metrics
from backend.probes.load import LoadConfig, run_load
from backend.probes.series import Observation
from chaosd.model import DesiredState, PartitionFault, Peer

ROOT = Path(__file__).resolve().parents[2]
NS = f"fl-demo-{secrets.token_hex(3)}"
HOST_IP, SVC_IP, PORT = "10.213.77.1", "10.213.77.2", 8080
BASELINE, FAULT, OBSERVE = 10.0, 10.0, 20.0
RECOVER_WITHIN, RECOVER_RATIO = 10.0, 0.9
HYPOTHESIS = (
    "When the service is cut off from its clients for 10 s, QPS drops, and within 10 s of the "
    "partition healing it is back to >= 90% of its baseline."
)
console = Console()


def sh(*args: str) -> None:
    subprocess.run(args, check=True)


def setup_namespace() -> None:
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", f"{NS[-6:]}h", "type", "veth", "peer", "name", f"{NS[-6:]}s")
    sh("ip", "link", "set", f"{NS[-6:]}s", "netns", NS)
    sh("ip", "addr", "add", f"{HOST_IP}/30", "dev", f"{NS[-6:]}h")
    sh("ip", "link", "set", f"{NS[-6:]}h", "up")
    sh("ip", "-n", NS, "addr", "add", f"{SVC_IP}/30", "dev", f"{NS[-6:]}s")
    sh("ip", "-n", NS, "link", "set", f"{NS[-6:]}s", "up")
    sh("ip", "-n", NS, "link", "set", "lo", "up")


def teardown_namespace() -> None:
    subprocess.run(["ip", "link", "del", f"{NS[-6:]}h"], stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL, check=False)


def wait_http(url: str, timeout: float = 20) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def experiment(
    chaosd: ChaosdClient, service_pid: int, board: Dashboard, run: int
) -> tuple[list[Observation], float, float]:
    observations: list[Observation] = []

    async def sink(batch: list[Observation]) -> None:
        observations.extend(batch)
        points = [
            {"probe": "web", **{k: v for k, v in o.as_dict().items() if k != "requests"}}
            for o in batch
        ]
        await asyncio.to_thread(board.observe, run, points)
        last = batch[-1]
        console.print(f"  QPS {last.qps:7.1f}  errors {last.error_rate:5.1%}", end="\r")

    cfg = LoadConfig(
        url=f"http://{SVC_IP}:{PORT}/",
        workers=8,
        timeout=0.5,
        interval=0.2,
        duration=BASELINE + FAULT + OBSERVE,
    )
    load = asyncio.create_task(run_load(cfg, sink))
    console.print(f"[bold]Baseline[/] ({BASELINE:g}s): measuring QPS")
    await asyncio.sleep(BASELINE)
    desired = DesiredState(
        pid=service_pid,
        faults=[PartitionFault(direction="both", peers=[Peer(cidr=f"{HOST_IP}/32")])],
        lease_seconds=FAULT + 30,
        owner="standalone-demo",
    )
    fault_start = time.time()
    await asyncio.to_thread(board.phase, run, "Injecting")
    await asyncio.to_thread(chaosd.put_target, "demo-service", desired)
    await asyncio.to_thread(
        board.event, run, "FaultInjected", "partition service <-> clients", fault_start
    )
    console.print(f"[bold red]Injecting[/]: partition service <-> clients for {FAULT:g}s")
    await asyncio.sleep(FAULT)
    await asyncio.to_thread(chaosd.delete_target, "demo-service")
    fault_end = time.time()
    await asyncio.to_thread(board.event, run, "FaultRemoved", "partition removed", fault_end)
    await asyncio.to_thread(board.phase, run, "Recovering")
    console.print(f"[bold green]Recovered[/]: partition removed; observing for {OBSERVE:g}s")
    await load
    return observations, fault_start, fault_end


def report(
    observations: list[Observation],
    fault_start: float,
    fault_end: float,
    board: Dashboard,
    run: int,
) -> bool:
    t0 = observations[0].ts
    samples = [Sample(o.ts - t0, o.qps, o.error_rate) for o in observations]
    base = baseline_of(samples, 0, fault_start - t0)
    m = recovery_metrics(
        samples,
        baseline=base,
        fault_start=fault_start - t0,
        fault_end=fault_end - t0,
        recover_ratio=RECOVER_RATIO,
    )
    held = m.time_to_recover_from_end is not None and m.time_to_recover_from_end <= RECOVER_WITHIN
    table = Table(title="Hypothesis: QPS back to >= 90% of baseline within 10 s of the fault end")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        "baseline QPS (median)", f"{base.median:.1f}  (band {base.low:.1f}-{base.high:.1f})"
    )
    table.add_row("minimum QPS", f"{m.min_qps:.1f}")
    table.add_row("dip depth", f"{m.dip_depth_pct:.0f}%")
    table.add_row("time to impact", _s(m.time_to_impact))
    table.add_row("dip duration", f"{m.dip_duration:.1f}s")
    table.add_row("time to recover (from fault start)", _s(m.time_to_recover_from_start))
    table.add_row("time to recover (from fault end)", _s(m.time_to_recover_from_end))
    table.add_row("requests lost vs baseline", f"{m.lost_requests:.0f}")
    console.print(table)
    verdict = "[bold green]Passed[/]" if held else "[bold red]Failed[/]"
    console.print(f"Verdict: {verdict}")
    metrics = {
        "fault_started_at": fault_start,
        "fault_ended_at": fault_end,
        "baseline_qps": round(base.median, 1),
        "baseline_low": round(base.low, 1),
        "baseline_high": round(base.high, 1),
        "min_qps": round(m.min_qps, 1),
        "dip_depth_pct": round(m.dip_depth_pct, 1),
        "lost_requests": round(m.lost_requests),
    }
    if m.recovered_at is not None:
        metrics["recovered_at"] = t0 + m.recovered_at
        metrics["time_to_recover_s"] = round(m.time_to_recover_from_start or 0, 2)
        board.event(run, "Recovered", "QPS back to >= 90% of baseline", t0 + m.recovered_at)
    board.finish(run, verdict="Passed" if held else "Failed", metrics=metrics)
    return held


def _s(v: float | None) -> str:
    return "never" if v is None else f"{v:.1f}s"


def main() -> int:
    if os.geteuid() != 0:
        console.print("[red]the demo needs root (it creates a network namespace)[/]")
        return 3
    state = ROOT / ".state" / "demo"
    state.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    token_file = state / "chaosd.token"
    token_file.write_text(token)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        setup_namespace()
        svc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                NS,
                sys.executable,
                str(ROOT / "hack/demo/service.py"),
                SVC_IP,
                str(PORT),
            ]
        )
        procs.append(svc)
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chaosd.cli",
                "serve",
                "--listen",
                "127.0.0.1:19443",
                "--state-dir",
                str(state / "chaosd"),
                "--token-file",
                str(token_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(state / "chaosd.log", "wb"),  # noqa: SIM115
        )
        procs.append(daemon)
        wait_http(f"http://{SVC_IP}:{PORT}/")
        wait_http("http://127.0.0.1:19443/healthz")
        board = Dashboard(state)
        board.ensure_running()
        run = board.start_run(
            name="partition-recovery",
            title="The service recovers within 10 s of a 10 s partition",
            description=HYPOTHESIS,
            spec={"fault": "partition", "direction": "both", "duration": f"{FAULT:g}s"},
        )
        with ChaosdClient("http://127.0.0.1:19443", token=token) as chaosd:
            observations, start, end = asyncio.run(experiment(chaosd, svc.pid, board, run))
            leftovers = subprocess.run(
                ["ip", "netns", "exec", NS, "nft", "list", "tables"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            held = report(observations, start, end, board, run)
            console.print(
                "Leftover Faultline rules after recovery: "
                + ("[red]" + leftovers.strip() + "[/]" if "faultline" in leftovers else "none")
            )
        console.print(
            f"\nDashboard: [bold]{board.url}/experiments[/]  (token: {board.token})\n"
            f"It keeps running; stop it with: kill $(cat {board.dir / 'server.pid'})"
        )
        return 0 if held else 1
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        teardown_namespace()


if __name__ == "__main__":
    raise SystemExit(main())
