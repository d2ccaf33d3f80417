"""Input that once reached the kernel or crashed the API: interface names that carry nft syntax,
and NaN / Infinity, which Python's JSON parser reads as numbers."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from chaosd.model import DesiredState

INJECTION = 'eth0" drop\nflush ruleset'
IO_ATTR = {"kind": "io", "action": "attrOverride", "volumePath": "/d"}


def _error_locs(doc: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationError) as e:
        DesiredState.model_validate(doc)
    return [".".join(str(p) for p in err["loc"]) for err in e.value.errors()]


@pytest.mark.parametrize("device", ["eth0", "ens3f0.100", "veth_a@if3", "br-1a2b3c4d5e6f", "a"])
def test_real_interface_names_pass(device: str) -> None:
    state = DesiredState.model_validate(
        {"pid": 1, "faults": [{"kind": "loss", "loss": 5, "device": device},
                              {"kind": "bandwidth", "rate": "1mbit", "device": device}]}
    )  # fmt: skip
    assert [f.device for f in state.faults] == [device, device]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "device", [INJECTION, "eth0;", "eth 0", "eth0'", "", "sixteen-chars-xx", ".", "..", "eth/0"]
)
@pytest.mark.parametrize("kind", ["loss", "bandwidth"])
def test_interface_names_with_anything_else_are_refused_naming_the_field(
    device: str, kind: str
) -> None:
    fault = {"kind": kind, "device": device} | (
        {"loss": 5} if kind == "loss" else {"rate": "1mbit"}
    )
    assert _error_locs({"pid": 1, "faults": [fault]}) == [f"faults.0.{kind}.device"]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    ("doc", "loc"),
    [
        (lambda v: {"pid": 1, "faults": [{"kind": "loss", "loss": v}]}, "faults.0.loss.loss"),
        (lambda v: {"pid": 1, "lease_seconds": v}, "lease_seconds"),
        (lambda v: {"pid": v}, "pid"),
        (
            lambda v: {"pid": 1, "faults": [IO_ATTR | {"attr": {"atime": v}}]},
            "faults.0.io.attr.atime",
        ),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_field(bad: float, doc: object, loc: str) -> None:
    assert loc in _error_locs(doc(bad))  # type: ignore[operator]


def test_host_network_defaults_to_false() -> None:
    assert DesiredState(pid=1).hostNetwork is False
    assert DesiredState.model_validate({"pid": 1, "hostNetwork": True}).hostNetwork is True
