"""Putting the host back: everything the dev cluster created, found and removed.

Leftover mounts, veths, cgroups and firewall rules are the worst bugs a chaos tool can have, so
teardown does not trust the components to clean up after themselves: it kills what is running,
then sweeps the host for anything that is recognisably the cluster's (our state folders, the
`cni-*` network namespaces containerd makes, our bridge, `kubepods` cgroups, KUBE-/CNI- chains,
kube-proxy's nftables tables) and removes it. `leftovers()` runs the same sweep read-only, so
tests can assert that nothing remains.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

from devcluster.settings import BRIDGE, Settings

NETNS_DIR = Path("/run/netns")
CGROUP_ROOT = Path("/sys/fs/cgroup")
OUR_CHAIN = re.compile(r"^(KUBE|CNI)-")
IPTABLES_TABLES = ("filter", "nat", "mangle", "raw")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


# ---- what is ours ---------------------------------------------------------------------------


def cluster_mounts(s: Settings) -> list[str]:
    """Mount points under our state folders or on containerd's netns files, deepest first."""
    prefixes = (f"{s.state}/", f"{s.run}/", f"{NETNS_DIR}/cni-", "/var/run/netns/cni-")
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes) or point in (str(s.state), str(s.run)):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def cluster_netns() -> list[str]:
    return sorted(p.name for p in NETNS_DIR.glob("cni-*")) if NETNS_DIR.exists() else []


def cluster_links() -> list[str]:
    """Our bridge and any interface still enslaved to it."""
    found = []
    for link in json.loads(_run("ip", "-j", "link", "show").stdout or "[]"):
        if link.get("ifname") == BRIDGE or link.get("master") == BRIDGE:
            found.append(link["ifname"])
    return found


def cluster_cgroups() -> list[str]:
    """`kubepods` cgroup trees the kubelet made, in every hierarchy, deepest first."""
    found = []
    for tree in CGROUP_ROOT.glob("*/kubepods*"):
        for dirpath, _dirs, _files in os.walk(tree, topdown=False):
            found.append(dirpath)
    for tree in CGROUP_ROOT.glob("kubepods*"):  # a pure cgroup v2 host
        for dirpath, _dirs, _files in os.walk(tree, topdown=False):
            found.append(dirpath)
    return found


def _cgroup_pids() -> set[int]:
    pids: set[int] = set()
    for path in cluster_cgroups():
        try:
            pids |= {int(p) for p in Path(path, "cgroup.procs").read_text().split()}
        except OSError:
            continue
    return pids


def _shim_pids(s: Settings) -> set[int]:
    """containerd shims started by our containerd (they name its socket on their command line)."""
    pids = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            cmd
            and cmd[0].endswith(b"containerd-shim-runc-v2")
            and str(s.containerd_socket).encode() in cmd
        ):
            pids.add(int(proc.name))
    return pids


def cluster_processes(s: Settings) -> list[str]:
    from devcluster.components import COMPONENTS, running_pid

    found = [f"{c.name}[{pid}]" for c in COMPONENTS if (pid := running_pid(s, c.name))]
    found += [f"shim[{p}]" for p in sorted(_shim_pids(s))]
    found += [f"pod-process[{p}]" for p in sorted(_cgroup_pids())]
    return found


def _nft_tables() -> list[tuple[str, str]]:
    data = json.loads(_run("nft", "-j", "list", "tables").stdout or '{"nftables": []}')
    return [(t["table"]["family"], t["table"]["name"]) for t in data["nftables"] if "table" in t]


def _nft_chains() -> list[tuple[str, str, str]]:
    data = json.loads(_run("nft", "-j", "list", "chains").stdout or '{"nftables": []}')
    return [
        (c["chain"]["family"], c["chain"]["table"], c["chain"]["name"])
        for c in data["nftables"]
        if "chain" in c
    ]


def _legacy_lines() -> list[tuple[str, str, str]]:
    """(binary, table, rule line) of iptables-legacy rules, only for tables that already exist."""
    lines = []
    for binary, names in (
        ("iptables-legacy", "/proc/net/ip_tables_names"),
        ("ip6tables-legacy", "/proc/net/ip6_tables_names"),
    ):
        try:
            tables = Path(names).read_text().split()
        except OSError:
            continue
        for table in tables:
            for line in _run(binary, "-w", "-t", table, "-S").stdout.splitlines():
                lines.append((binary, table, line))
    return lines


def cluster_rules() -> list[str]:
    found = [f"nft table {f} {n}" for f, n in _nft_tables() if n == "kube-proxy"]
    found += [f"nft chain {f} {t} {n}" for f, t, n in _nft_chains() if OUR_CHAIN.match(n)]
    found += [
        f"{b} -t {t} {line}" for b, t, line in _legacy_lines() if re.search(r"\b(KUBE|CNI)-", line)
    ]
    return found


def leftovers(s: Settings) -> dict[str, list[str]]:
    """Everything of the cluster's still on the host; all lists are empty after `down`."""
    return {
        "processes": cluster_processes(s),
        "mounts": cluster_mounts(s),
        "netns": cluster_netns(),
        "links": cluster_links(),
        "cgroups": cluster_cgroups(),
        "rules": cluster_rules(),
    }


# ---- removing it ----------------------------------------------------------------------------


def kill_pod_processes(s: Settings) -> None:
    for _ in range(50):
        pids = _cgroup_pids() | _shim_pids(s)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def unmount_all(s: Settings) -> None:
    for _ in range(5):
        points = cluster_mounts(s)
        if not points:
            return
        for point in points:
            if _run("umount", point).returncode != 0:
                _run("umount", "-l", point)


def remove_network() -> None:
    for name in cluster_netns():
        _run("ip", "netns", "delete", name)
    for ifname in cluster_links():
        if ifname != BRIDGE:
            _run("ip", "link", "delete", ifname)
    if BRIDGE in cluster_links():
        _run("ip", "link", "delete", BRIDGE)


def _iptables_cleanup(binary: str, table: str, listing: str) -> None:
    rules = listing.splitlines()
    ours = [r.split()[1] for r in rules if r.startswith("-N ") and OUR_CHAIN.match(r.split()[1])]
    # First the jumps from built-in chains into ours, then our chains themselves.
    for rule in rules:
        words = shlex.split(rule)
        if (
            words[:1] == ["-A"]
            and not OUR_CHAIN.match(words[1])
            and any(OUR_CHAIN.match(w) for w in words[2:])
        ):
            _run(binary, "-w", "-t", table, "-D", *words[1:])
    for chain in ours:
        _run(binary, "-w", "-t", table, "-F", chain)
    for chain in ours:
        _run(binary, "-w", "-t", table, "-X", chain)


def remove_rules(s: Settings) -> None:
    for family in ("ip", "ip6"):
        if (family, "kube-proxy") in _nft_tables():
            _run("nft", "delete", "table", family, "kube-proxy")
    tables = _nft_tables()
    for family, binary in (("ip", "iptables-nft"), ("ip6", "ip6tables-nft")):
        for table in IPTABLES_TABLES:
            if (family, table) in tables:
                _iptables_cleanup(binary, table, _run(binary, "-w", "-t", table, "-S").stdout)
    for binary, table, _line in {(b, t, "") for b, t, _ in _legacy_lines()}:
        _iptables_cleanup(binary, table, _run(binary, "-w", "-t", table, "-S").stdout)
    # Drop the iptables-nft tables that only exist because the cluster made them (now empty).
    before_file = s.state / "nft-tables-before.json"
    if not before_file.exists():
        return
    before = set(json.loads(before_file.read_text()))
    for family, name in _nft_tables():
        if f"{family} {name}" in before or name not in IPTABLES_TABLES:
            continue
        listing = json.loads(_run("nft", "-j", "list", "table", family, name).stdout or "{}")
        if not any("rule" in item for item in listing.get("nftables", [])):
            _run("nft", "delete", "table", family, name)


def remove_cgroups() -> None:
    for _ in range(50):
        paths = cluster_cgroups()
        if not paths:
            return
        for path in paths:
            with contextlib.suppress(OSError):
                os.rmdir(path)
        time.sleep(0.1)


def record_host_state(s: Settings) -> None:
    """Remember the host's nftables tables before the cluster adds any (once per state dir)."""
    path = s.state / "nft-tables-before.json"
    if not path.exists():
        s.state.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sorted(f"{f} {n}" for f, n in _nft_tables())))
