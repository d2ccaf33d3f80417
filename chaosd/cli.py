"""The `chaosd` command: run the daemon (`serve`), or inject faults on a plain Linux host with no
server and no Kubernetes (`attack`, `status`, `recover`).

Standalone commands drive the same engine and journal as the server, so a fault started from the
CLI carries a lease equal to its duration: if the CLI is killed, the next chaosd to start (or any
running chaosd's lease reaper on the same state directory) recovers it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chaosd.auth import AuthSetupError
from chaosd.duration import DurationError, format_duration, parse_duration
from chaosd.engine import (
    Engine,
    EngineError,
    InvalidRequest,
    Registry,
    TargetGuard,
    TargetNotFound,
)
from chaosd.gate import DEFAULT_MAX_BODY
from chaosd.journal import DEFAULT_STATE_DIR, Journal
from chaosd.model import (
    BandwidthFault,
    CorruptFault,
    DelayFault,
    DesiredState,
    DuplicateFault,
    Fault,
    IOFault,
    LossFault,
    PartitionFault,
)

app = typer.Typer(help="Faultline node daemon and standalone fault injector.", no_args_is_help=True)
attack = typer.Typer(help="Inject a fault for a duration, then recover.", no_args_is_help=True)
network = typer.Typer(help="Network faults in the target's network namespace.")
io = typer.Typer(help="File-system faults under a path in the target's mount namespace.")
app.add_typer(attack, name="attack")
attack.add_typer(network, name="network", no_args_is_help=True)
attack.add_typer(io, name="io", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

StateDir = Annotated[Path, typer.Option(help="Where the journal lives.", envvar="CHAOSD_STATE_DIR")]
Pid = Annotated[int, typer.Option(help="A process inside the target.")]
DurationOpt = Annotated[str, typer.Option(help="How long, Go-style: 30s, 1m, 1h.")]
Peers = Annotated[list[str] | None, typer.Option("--peer", help="Address or CIDR (repeatable).")]
DirectionOpt = Annotated[str, typer.Option(help="to | from | both")]
Device = Annotated[str | None, typer.Option(help="Interface (default: default-route one).")]
HostNet = Annotated[
    bool,
    typer.Option(
        "--host-network",
        help="Allow the fault when the process shares the host's network namespace: it then "
        "acts on the node's own network.",
    ),
]


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _engine(state_dir: Path) -> Engine:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("chaosd")
    # Host mode: any process but node agents, and the host's own network only when asked.
    guard = TargetGuard()
    return Engine(Journal(state_dir), Registry.default(logger=log), logger=log, guard=guard)


_stop = threading.Event()
"""Set by SIGTERM/SIGINT. A flag, not an exception: a signal that lands while the fault is being
applied must not tear through the engine halfway; the attack ends (and recovers) right after."""


def _on_stop_signal(signum: int, frame: object) -> None:
    _stop.set()


def _run_attack(
    make: Any,
    pid: int,
    duration: str,
    state_dir: Path,
    *,
    host_network: bool = False,
    **fields: Any,
) -> None:
    try:
        seconds = parse_duration(duration)
        fault: Fault = make(**fields)
    except DurationError as e:
        _fail(f"--duration: {e}", 2)
    except ValidationError as e:
        _fail("; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors()), 2)
    engine = _engine(state_dir)
    engine.reap_once()  # recover what an earlier, killed CLI left behind
    target_id = f"cli-pid{pid}"
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _on_stop_signal)
    try:
        _merge(engine, target_id, pid, add=fault, lease=seconds, host_network=host_network)
        status = engine.get(target_id)
        mechanisms = ", ".join(f"{n}: {f.mechanism}" for n, f in status.families.items() if f.ok)
        out.print(
            f"[green]injected[/green] {fault.kind} into pid {pid} (target {target_id}) for "
            f"{format_duration(seconds)} ({escape(mechanisms)}); Ctrl-C recovers early"
        )
        engine.start_reaper()
        if _stop.wait(seconds):
            out.print("interrupted, recovering")
    except EngineError as e:
        _fail(str(e), 2 if isinstance(e, InvalidRequest) else 1)
    finally:
        try:
            _merge(engine, target_id, pid, remove=fault, host_network=host_network)
        finally:
            engine.close()
    out.print(f"[green]recovered[/green] {fault.kind} on pid {pid}")


def _merge(
    engine: Engine,
    target_id: str,
    pid: int,
    *,
    add: Fault | None = None,
    remove: Fault | None = None,
    lease: float = 0,
    host_network: bool = False,
) -> None:
    """Add or remove one fault in the target's desired set, so concurrent attacks on one
    process compose instead of replacing each other."""
    entry = engine.journal.get(target_id)
    same = entry is not None and entry.pid == pid
    faults: list[Fault] = list(entry.desired.faults) if entry and same else []
    # Another attack on the process may have opted in already; the opt-in covers the whole set.
    host_network = host_network or bool(entry and same and entry.desired.hostNetwork)
    remaining = max(0.0, entry.lease_expiry - time.time()) if entry else 0.0
    if add is not None:
        faults.append(add)
    if remove is not None and remove in faults:
        faults.remove(remove)
    if not faults:
        if entry is not None:
            engine.delete(target_id)
        return
    lease_seconds = min(86400.0, max(lease, remaining, 1.0))
    desired = DesiredState(
        pid=pid, faults=faults, lease_seconds=lease_seconds, hostNetwork=host_network
    )
    engine.put(target_id, desired)


def _peers(peers: list[str] | None) -> list[dict[str, str]]:
    # plain dicts, so a malformed CIDR is reported by the same validation as every other field
    return [{"cidr": p} for p in peers or []]


@network.command()
def loss(
    pid: Pid,
    percent: Annotated[float, typer.Option(help="Packets to drop, 0-100.")],
    duration: DurationOpt = "30s",
    correlation: float = 0,
    peer: Peers = None,
    direction: DirectionOpt = "to",
    state_dir: StateDir = DEFAULT_STATE_DIR,
    host_network: HostNet = False,
) -> None:
    """Drop a percentage of packets."""
    _run_attack(LossFault, pid, duration, state_dir, host_network=host_network,
                loss=percent, correlation=correlation,
                peers=_peers(peer), direction=direction)  # fmt: skip


@network.command()
def delay(
    pid: Pid,
    latency: Annotated[str, typer.Option(help="e.g. 50ms")],
    jitter: str = "0ms",
    correlation: float = 0,
    reorder: float = 0,
    duration: DurationOpt = "30s",
    peer: Peers = None,
    direction: DirectionOpt = "to",
    state_dir: StateDir = DEFAULT_STATE_DIR,
    host_network: HostNet = False,
) -> None:
    """Delay packets by latency ± jitter."""
    _run_attack(DelayFault, pid, duration, state_dir, host_network=host_network,
                latency=latency, jitter=jitter,
                correlation=correlation, reorder=reorder, peers=_peers(peer),
                direction=direction)  # fmt: skip


@network.command()
def partition(
    pid: Pid,
    peer: Peers = None,
    direction: DirectionOpt = "both",
    duration: DurationOpt = "30s",
    state_dir: StateDir = DEFAULT_STATE_DIR,
    host_network: HostNet = False,
) -> None:
    """Cut traffic to and/or from peers."""
    _run_attack(
        PartitionFault,
        pid,
        duration,
        state_dir,
        host_network=host_network,
        peers=_peers(peer),
        direction=direction,
    )


@network.command()
def duplicate(
    pid: Pid,
    percent: float,
    duration: DurationOpt = "30s",
    peer: Peers = None,
    direction: DirectionOpt = "to",
    state_dir: StateDir = DEFAULT_STATE_DIR,
    host_network: HostNet = False,
) -> None:
    """Duplicate a percentage of packets."""
    _run_attack(DuplicateFault, pid, duration, state_dir, host_network=host_network,
                duplicate=percent,
                peers=_peers(peer), direction=direction)  # fmt: skip


@network.command()
def corrupt(
    pid: Pid,
    percent: float,
    duration: DurationOpt = "30s",
    peer: Peers = None,
    direction: DirectionOpt = "to",
    state_dir: StateDir = DEFAULT_STATE_DIR,
    host_network: HostNet = False,
) -> None:
    """Corrupt a percentage of packets."""
    _run_attack(CorruptFault, pid, duration, state_dir, host_network=host_network,
                corrupt=percent,
                peers=_peers(peer), direction=direction)  # fmt: skip


@network.command()
def bandwidth(
    pid: Pid,
    rate: Annotated[str, typer.Option(help="e.g. 1mbps, 500kbit")],
    limit: int = 20971520,
    buffer: int = 10000,
    device: Device = None,
    duration: DurationOpt = "30s",
    state_dir: StateDir = DEFAULT_STATE_DIR,
    host_network: HostNet = False,
) -> None:
    """Limit egress bandwidth."""
    _run_attack(BandwidthFault, pid, duration, state_dir, host_network=host_network,
                rate=rate, limit=limit, buffer=buffer,
                device=device)  # fmt: skip


def _io(action: str, pid: int, volume_path: str, duration: str, state_dir: Path, **kw: Any) -> None:
    fields = {k: v for k, v in kw.items() if v is not None}
    _run_attack(IOFault, pid, duration, state_dir, action=action, volumePath=volume_path, **fields)


VolumePath = Annotated[str, typer.Option(help="Directory in the target's mount namespace.")]
Methods = Annotated[list[str] | None, typer.Option("--method", help="e.g. read (repeatable).")]


@io.command("fault")
def io_fault(
    pid: Pid,
    volume_path: VolumePath,
    errno: Annotated[int, typer.Option(help="errno to return, e.g. 5 (EIO).")],
    percent: float = 100,
    path: str = "**",
    method: Methods = None,
    duration: DurationOpt = "30s",
    state_dir: StateDir = DEFAULT_STATE_DIR,
) -> None:
    """Fail file operations with an errno."""
    _io("fault", pid, volume_path, duration, state_dir, errno=errno, percent=percent, path=path,
        methods=method)  # fmt: skip


@io.command("latency")
def io_latency(
    pid: Pid,
    volume_path: VolumePath,
    delay: Annotated[str, typer.Option(help="e.g. 100ms")],
    percent: float = 100,
    path: str = "**",
    method: Methods = None,
    duration: DurationOpt = "30s",
    state_dir: StateDir = DEFAULT_STATE_DIR,
) -> None:
    """Slow file operations down."""
    _io("latency", pid, volume_path, duration, state_dir, delay=delay, percent=percent, path=path,
        methods=method)  # fmt: skip


@app.command()
def status(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Show every target chaosd has journaled on this host."""
    engine = _engine(state_dir)
    engine.reap_once()  # a lapsed lease is recovered by whichever chaosd looks first
    table = Table("target", "pid", "owner", "status", "faults", "lease left", "last error")
    for t in engine.targets():
        table.add_row(t.id, str(t.pid), t.owner, t.status, ", ".join(f.kind for f in t.applied),
                      f"{t.lease_remaining:.0f}s", t.last_error)  # fmt: skip
    out.print(table)


@app.command()
def recover(
    target: Annotated[str | None, typer.Argument(help="Target id to recover.")] = None,
    all_targets: Annotated[bool, typer.Option("--all", help="Recover every target.")] = False,
    state_dir: StateDir = DEFAULT_STATE_DIR,
) -> None:
    """Remove faults now, regardless of leases."""
    if (target is None) == (not all_targets):
        _fail("give exactly one of TARGET or --all", 2)
    engine = _engine(state_dir)
    engine.reap_once()
    try:
        ids = engine.recover_all() if all_targets else [target or ""]
        if not all_targets:
            engine.delete(ids[0])
    except TargetNotFound as e:
        _fail(str(e), 2)
    except EngineError as e:
        _fail(str(e))
    out.print(f"recovered {len(ids)} target(s): {', '.join(ids) or '-'}")


@app.command()
def doctor(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report; remove nothing.")
    ] = False,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Scan every network and mount namespace on this node for Faultline-owned objects (nft
    table, qdiscs, delayers, FUSE layers and their servers) and remove those no journal entry
    desires. Exit code 1 when a leak was found (and, without --dry-run, removed)."""
    from chaosd.leaks import scan

    engine = _engine(state_dir)
    engine.reap_once()
    report = scan(engine, repair=not dry_run)
    if as_json:
        out.print_json(data=report.as_dict())
    else:
        owned = ", ".join(f"{k} {v}" for k, v in report.owned().items())
        out.print(f"scanned {report.namespaces} namespaces in {report.seconds * 1000:.0f} ms; "
                  f"journal entries {report.journal_entries}; owned now: {owned}")  # fmt: skip
        table = Table("namespace", "kind", "target", "object", "removed", "error")
        for f in report.leaks:
            table.add_row(f.namespace, f.item.kind, f.item.target_id or "?", f.item.key,
                          "yes" if f.repaired else "no", f.error)  # fmt: skip
        if report.leaks:
            out.print(table)
        else:
            out.print("no leaks")
    engine.close()
    if report.leaks:
        raise typer.Exit(1)


@app.command()
def serve(
    listen: Annotated[str, typer.Option(help="host:port")] = "127.0.0.1:9797",
    state_dir: StateDir = DEFAULT_STATE_DIR,
    token_file: Annotated[Path | None, typer.Option(help="Bearer token file.")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="Server certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Server key (PEM).")] = None,
    client_ca: Annotated[Path | None, typer.Option(help="CA for client certs (mTLS).")] = None,
    cri_socket: Annotated[
        str | None,
        typer.Option(
            help="Container runtime (CRI) socket used to find containers' PIDs; default: the "
            "first of the well-known containerd/CRI-O paths, else a /proc/*/cgroup scan.",
            envvar="CHAOSD_CRI_SOCKET",
        ),
    ] = None,
    client_identity: Annotated[
        list[str] | None,
        typer.Option(
            help="With --client-ca: the client certificate identity accepted (its CN, or a DNS "
            "or URI SAN); repeatable. Required with mTLS: the CA alone is not enough.",
            envvar="CHAOSD_CLIENT_IDENTITY",
        ),
    ] = None,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Largest request body accepted (413 past it).",
            envvar="CHAOSD_MAX_BODY_BYTES",
        ),
    ] = DEFAULT_MAX_BODY,
    kubernetes: Annotated[
        bool | None,
        typer.Option(
            "--kubernetes/--host",
            help="Kubernetes mode: act only on processes of pod containers on this node. "
            "Default: on when running in a pod ($KUBERNETES_SERVICE_HOST is set).",
            envvar="CHAOSD_KUBERNETES",
        ),
    ] = None,
    leak_scan_interval: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds between node-wide leak scans (0: only at start and on demand).",
            envvar="CHAOSD_LEAK_SCAN_INTERVAL",
        ),
    ] = 60.0,
    log_level: str = "INFO",
) -> None:
    """Run the daemon: reconcile the journal, scan for leaks, then serve the HTTP API."""
    from chaosd.auth import resolve
    from chaosd.leaks import Scanner
    from chaosd.lookup import CRIError, choose
    from chaosd.server import TLSFiles, create_app
    from chaosd.server import serve as run_server

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("chaosd")
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        _fail(f"--listen: {listen!r} is not host:port", 2)
    if (tls_cert is None) != (tls_key is None) or (client_ca and not tls_cert):
        _fail("--tls-cert and --tls-key go together, and --client-ca needs both", 2)
    try:
        auth, generated = resolve(
            state_dir=state_dir,
            token_file=token_file,
            mtls=bool(client_ca),
            client_identities=client_identity or (),
        )
    except AuthSetupError as e:
        _fail(str(e), 2)
    if generated:
        err.print(f"bearer token generated in {generated}")
    elif auth.token:
        err.print(f"bearer token from {auth.token_hint}")
    try:
        containers = choose(cri_socket, logger=log)
    except CRIError as e:
        _fail(str(e), 2)
    if kubernetes is None:
        kubernetes = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    guard = TargetGuard(pods=containers if kubernetes else None)
    log.info("target mode: %s (via %s)", guard.mode, containers.via)
    registry = Registry.default(logger=log)
    engine = Engine(Journal(state_dir), registry, logger=log, guard=guard)
    engine.reconcile()
    scanner = Scanner(engine, interval=leak_scan_interval)
    scanner.run()  # what a crashed or older chaosd left behind, before serving anyone
    engine.start_reaper()
    scanner.start()
    tls = TLSFiles(tls_cert, tls_key, client_ca) if tls_cert and tls_key else None
    try:
        app = create_app(
            engine, auth, containers=containers, max_body=max_body_bytes, scanner=scanner
        )
        run_server(app, host=host, port=int(port), tls=tls, logger=log)
    finally:
        scanner.close()
        engine.close()


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
