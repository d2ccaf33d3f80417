"""`python -m backend.probes.run --probe '<json>'`: run one Experiment probe and print one JSON
observation per line on stdout.

This is the command of the in-cluster probe Job the experiment engine creates (the probe then
sits next to the service, inside the cluster network); the engine reads the Job's log. The
engine's local mode runs this command as its child process (`--until-stdin-closes`, so the probe
never outlives the operator). With `--report-url` (a run's
`.../observations:batch` URL on the dashboard API) and FAULTLINE_DASHBOARD_TOKEN it also posts
each batch there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading

import httpx

from backend.probes.load import LoadConfig, Sink, run_load
from backend.probes.passive import HttpCheck, run_http_check, run_prometheus
from backend.probes.series import Observation
from backend.spec.experiment import Probe
from chaosd.duration import parse_duration

DEFAULT_WORKERS = 8


def load_config(probe: Probe) -> LoadConfig:
    return LoadConfig(
        url=probe.url,
        method=probe.method,
        body=probe.body.encode() if probe.body is not None else None,
        workers=probe.workers or (1 if probe.rate else DEFAULT_WORKERS),
        rate=probe.rate,
        timeout=parse_duration(probe.timeout),
        interval=probe.interval_seconds(),
    )


async def run_probe(probe: Probe, sink: Sink, stop: asyncio.Event) -> None:
    """Run until `stop` is set, sending observations to `sink`."""
    if probe.type == "load":
        await run_load(load_config(probe), sink, stop)
    elif probe.type == "http":
        check = HttpCheck(
            url=probe.url,
            method=probe.method,
            body=probe.body.encode() if probe.body is not None else None,
            expect_status=tuple(probe.expectStatus or ()),
            body_match=probe.bodyMatch,
            timeout=parse_duration(probe.timeout),
            interval=probe.interval_seconds(),
        )
        await run_http_check(check, sink, stop)
    else:
        assert probe.query is not None  # the spec's rules require it
        await run_prometheus(
            probe.url,
            probe.query,
            probe.interval_seconds(),
            parse_duration(probe.timeout),
            sink,
            stop,
        )


def observation_line(probe: str, obs: Observation) -> str:
    return json.dumps({"probe": probe, **obs.as_dict()}, separators=(",", ":"))


def _stdout_sink(probe: str, report_url: str | None, token: str | None) -> Sink:
    client = httpx.AsyncClient(timeout=2.0) if report_url else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def sink(batch: list[Observation]) -> None:
        for obs in batch:
            sys.stdout.write(observation_line(probe, obs) + "\n")
        sys.stdout.flush()
        if client is not None and report_url is not None:
            points = [o.as_dict() for o in batch]
            for p in points:
                p.pop("requests", None)
            try:
                await client.post(report_url, json={"points": points}, headers=headers)
            except httpx.HTTPError as e:  # the dashboard is optional; stdout is the record
                print(f"report failed: {e}", file=sys.stderr)

    return sink


def _set_at_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe, or died
    loop.call_soon_threadsafe(stop.set)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.probes.run", description=__doc__)
    parser.add_argument("--probe", required=True, help="the probe as JSON (Experiment schema)")
    parser.add_argument("--duration", type=float, default=None, help="stop after N seconds")
    parser.add_argument("--report-url", default=None)
    parser.add_argument(
        "--until-stdin-closes",
        action="store_true",
        help="stop when stdin reaches EOF (a parent process that dies closes it)",
    )
    args = parser.parse_args(argv)
    try:
        probe = Probe.model_validate(json.loads(args.probe))
    except ValueError as e:
        print(f"--probe: {e}", file=sys.stderr)
        return 2

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if args.duration is not None:
            loop.call_later(args.duration, stop.set)
        if args.until_stdin_closes:
            threading.Thread(
                target=_set_at_eof, args=(loop, stop), name="stdin-watch", daemon=True
            ).start()
        token = os.environ.get("FAULTLINE_DASHBOARD_TOKEN")
        await run_probe(probe, _stdout_sink(probe.name, args.report_url, token), stop)

    asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(main())
