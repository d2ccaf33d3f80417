"""The chaosd wire contract rejects bad input with the field named, and accepts good input."""

import pytest
from pydantic import TypeAdapter, ValidationError

from chaosd.duration import DurationError, format_duration, parse_duration
from chaosd.model import DesiredState


def _errors(doc: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as e:
        DesiredState.model_validate(doc)
    return [(".".join(str(p) for p in err["loc"]), err["msg"]) for err in e.value.errors()]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("500ms", 0.5), ("1m30s", 90), ("1h", 3600), ("1.5s", 1.5), ("250us", 0.00025)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "-5s", "5", "5 s", "5d", "1m-3s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(DurationError, match="invalid duration"):
        parse_duration(text)


def test_format_duration_round_trips() -> None:
    for s in (0.05, 1, 30, 90, 120):
        assert parse_duration(format_duration(s)) == pytest.approx(s)


def test_loss_over_100_names_the_field() -> None:
    errs = _errors({"pid": 1, "faults": [{"kind": "loss", "loss": 150}]})
    assert errs[0][0] == "faults.0.loss.loss"
    assert "less than or equal to 100" in errs[0][1]


def test_unknown_kind_names_the_field() -> None:
    errs = _errors({"pid": 1, "faults": [{"kind": "melt"}]})
    assert errs[0][0] == "faults.0"
    assert "melt" in errs[0][1]


def test_malformed_cidr_names_the_field() -> None:
    errs = _errors({"pid": 1, "faults": [{"kind": "partition", "peers": [{"cidr": "10.0.0.300"}]}]})
    assert errs[0][0] == "faults.0.partition.peers.0.cidr"
    assert "malformed address" in errs[0][1]


def test_negative_duration_names_the_field() -> None:
    errs = _errors({"pid": 1, "faults": [{"kind": "delay", "latency": "-5ms"}]})
    assert errs[0][0] == "faults.0.delay.latency"
    assert "invalid duration" in errs[0][1]


def test_partition_needs_peers() -> None:
    errs = _errors({"pid": 1, "faults": [{"kind": "partition"}]})
    assert "peers" in errs[0][1]


def test_io_action_requires_its_field() -> None:
    errs = _errors({"pid": 1, "faults": [{"kind": "io", "action": "fault", "volumePath": "/d"}]})
    assert "errno: required when action is 'fault'" in errs[0][1]


def test_unknown_field_is_an_error() -> None:
    errs = _errors({"pid": 1, "faults": [{"kind": "loss", "loss": 5, "los": 3}]})
    assert errs[0][0] == "faults.0.loss.los"


def test_valid_set_parses_and_normalises_cidr() -> None:
    state = TypeAdapter(DesiredState).validate_python(
        {
            "pid": 42,
            "faults": [
                {"kind": "partition", "direction": "both", "peers": [{"cidr": "10.1.2.3/24"}]},
                {"kind": "bandwidth", "rate": "1mbps"},
            ],
        }
    )
    assert state.faults[0].peers[0].cidr == "10.1.2.0/24"  # type: ignore[union-attr]
    assert state.lease_seconds == 30
