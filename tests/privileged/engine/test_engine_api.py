"""The API of a real `chaosd serve` with the real fault families: auth and rejected input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from engine_lab import CHAOSD, Daemon, Pod, inspect

pytestmark = pytest.mark.privileged


def test_auth_required_with_instructions(daemon: Daemon, pods: list[Pod]) -> None:
    daemon.start()
    r = httpx.get(f"{daemon.url}/targets")
    assert r.status_code == 401 and "Authorization: Bearer <token>" in r.json()["detail"]
    assert str(daemon.token_file) in r.json()["detail"]
    r = httpx.get(f"{daemon.url}/targets", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and "invalid bearer token" in r.json()["detail"]
    assert httpx.get(f"{daemon.url}/targets", headers=daemon.headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"faults": [{"kind": "explode"}]}, ["body", "faults", 0]),
        ({"faults": [{"kind": "loss", "loss": 150}]}, ["body", "faults", 0, "loss", "loss"]),
        (
            {"faults": [{"kind": "partition", "peers": [{"cidr": "10.1.2/33"}]}]},
            ["body", "faults", 0, "partition", "peers", 0, "cidr"],
        ),
        (
            {"faults": [{"kind": "delay", "latency": "-10ms"}]},
            ["body", "faults", 0, "delay", "latency"],
        ),
        ({"pid": 4_000_000, "faults": []}, ["body", "pid"]),
    ],
)
def test_bad_input_is_rejected_naming_the_field(
    daemon: Daemon, pods: list[Pod], body: dict[str, Any], loc: list[Any]
) -> None:
    a, _ = pods
    daemon.start()
    full = {"pid": a.pid, **body}
    full["faults"] = [*full["faults"], {"kind": "loss", "loss": 20}]  # a good one alongside
    with daemon.client() as c:
        r = c.put(f"/targets/{a.id}", json=full)
    assert r.status_code == 422, r.text
    assert loc in [d["loc"] for d in r.json()["detail"]], r.text
    assert inspect(a)["nft_table"] is False  # nothing applied, not even the good fault


def test_fault_the_node_cannot_realise_names_the_fault(daemon: Daemon, pods: list[Pod]) -> None:
    """On kernels without sch_netem (like this dev host) `duplicate` is unrealisable."""
    a, _ = pods
    assert not _has_netem(), "this kernel has sch_netem: pick another unrealisable fault"
    daemon.start()
    body = {"pid": a.pid, "faults": [{"kind": "loss", "loss": 20},
                                     {"kind": "duplicate", "duplicate": 10}]}  # fmt: skip
    with daemon.client() as c:
        r = c.put(f"/targets/{a.id}", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert "duplicate" in detail["msg"] and "sch_netem" in detail["msg"], detail
    assert inspect(a)["nft_table"] is False


def _has_netem() -> bool:
    from chaosd.faults.network import family

    return family.capabilities.netem


def test_cli_status_and_recover_share_the_journal(daemon: Daemon, pods: list[Pod]) -> None:
    import subprocess

    a, _ = pods
    daemon.start()
    with daemon.client() as c:
        body = {"pid": a.pid, "faults": [{"kind": "loss", "loss": 20}], "lease_seconds": 600}
        assert c.put(f"/targets/{a.id}", json=body).status_code == 200
    state = ["--state-dir", str(daemon.state_dir)]
    out = subprocess.run([*CHAOSD, "status", *state], capture_output=True, text=True, check=True)
    assert a.id in out.stdout and "loss" in out.stdout
    subprocess.run([*CHAOSD, "recover", a.id, *state], capture_output=True, check=True)
    assert inspect(a)["nft_table"] is False
    with daemon.client() as c:
        assert c.get(f"/targets/{a.id}").status_code == 404
