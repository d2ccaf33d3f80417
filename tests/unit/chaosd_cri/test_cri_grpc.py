"""The CRI subset chaosd declares: wire format by field number, and reading the PID out of a
verbose status the way containerd and CRI-O shape it (the real runtime: test_chaosd_cri.py)."""

from __future__ import annotations

import json

import pytest

from chaosd.cri import ContainerNotFound
from chaosd.cri_grpc import _M, CRIError, pid_from_info

CID = "ab" * 32


def test_request_uses_the_cri_field_numbers() -> None:
    # container_id = 1 (length-delimited), verbose = 2 (varint): what the runtime expects.
    wire = _M["ContainerStatusRequest"](container_id="abc", verbose=True).SerializeToString()
    assert wire == b"\x0a\x03abc\x10\x01"


def test_response_fields_we_do_not_declare_are_skipped() -> None:
    # status{id=1, metadata=2 (undeclared), state=3 RUNNING}, info{"info": ...}
    status = b"\x0a\x02id" + b"\x12\x04\x0a\x02mn" + b"\x18\x01"
    entry = b"\x0a\x04info" + b"\x12\x0b" + b'{"pid": 42}'
    wire = b"\x0a" + bytes([len(status)]) + status + b"\x12" + bytes([len(entry)]) + entry
    resp = _M["ContainerStatusResponse"].FromString(wire)
    assert resp.status.id == "id" and resp.status.state == 1
    assert pid_from_info({e.key: e.value for e in resp.info}, CID) == 42


def test_pid_from_containerd_and_crio_shaped_info() -> None:
    containerd = {"info": json.dumps({"sandboxID": "s", "pid": 1234, "runtimeSpec": {}})}
    crio = {"info": json.dumps({"sandboxID": "s", "pid": 99, "privileged": False})}
    assert pid_from_info(containerd, CID) == 1234
    assert pid_from_info(crio, CID) == 99


def test_missing_or_dead_pid_is_explained() -> None:
    with pytest.raises(CRIError, match=r"no info\.pid .*keys: \['other'\]"):
        pid_from_info({"other": "{}"}, CID)
    with pytest.raises(ContainerNotFound, match="no live process"):
        pid_from_info({"info": json.dumps({"pid": 0})}, CID)
