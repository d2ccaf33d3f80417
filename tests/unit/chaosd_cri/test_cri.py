"""Container id -> main PID resolution over a synthetic /proc (pure logic: file parsing)."""

from pathlib import Path

import pytest

from chaosd.cri import (
    ContainerNotFound,
    cgroup_mentions,
    container_main_pid,
    normalise_container_id,
)

CID = "3f4e" * 16


def _proc(tmp_path: Path, pid: int, ppid: int, cgroup: str) -> None:
    d = tmp_path / str(pid)
    d.mkdir()
    (d / "cgroup").write_text(cgroup)
    (d / "stat").write_text(f"{pid} (my proc) S {ppid} 1 1 0 -1\n")


def test_normalise_accepts_pod_status_form() -> None:
    assert normalise_container_id(f"containerd://{CID}") == CID
    assert normalise_container_id(f"cri-o://{CID}") == CID


def test_normalise_rejects_garbage_naming_the_field() -> None:
    with pytest.raises(ValueError, match="containerID"):
        normalise_container_id("containerd://not-hex!")


@pytest.mark.parametrize(
    "line",
    [
        f"4:memory:/kubepods/burstable/pod1234/{CID}",
        f"0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-{CID}.scope",
        f"1:name=systemd:/kubepods.slice/crio-{CID}.scope",
    ],
)
def test_cgroup_layouts_of_each_runtime(line: str) -> None:
    assert cgroup_mentions(line, CID)
    assert not cgroup_mentions(line.replace(CID, "a" * 64), CID)


def test_main_pid_is_the_member_whose_parent_is_outside(tmp_path: Path) -> None:
    line = f"4:memory:/kubepods/pod1/{CID}\n"
    _proc(tmp_path, 10, 1, "4:memory:/\n")  # the shim, outside the container
    _proc(tmp_path, 11, 10, line)  # container init
    _proc(tmp_path, 12, 11, line)  # its child
    (tmp_path / "self").mkdir()
    assert container_main_pid(f"containerd://{CID}", proc=tmp_path).pid == 11


def test_missing_container(tmp_path: Path) -> None:
    _proc(tmp_path, 10, 1, "4:memory:/\n")
    with pytest.raises(ContainerNotFound, match="containerID"):
        container_main_pid(CID, proc=tmp_path)
