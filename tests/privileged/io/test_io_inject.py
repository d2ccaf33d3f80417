"""IO faults observed from inside the target's mount namespace through a real FUSE layer."""

from __future__ import annotations

import errno
import os

import pytest
from iolab import Shell, ShellError, Target, io_fault

from chaosd.faults.io import IOFamily

pytestmark = pytest.mark.privileged


def _apply(io: IOFamily, target: Target, *faults: dict[str, object]) -> None:
    io.apply(target.ref, io.plan(target.ref, list(faults)))


def test_fault_fails_about_percent_of_reads_with_the_errno(
    io: IOFamily, target: Target, shell: Shell
) -> None:
    _apply(io, target, io_fault(target.volume, "fault", errno=errno.EIO, percent=30,
                                methods=["read"]))  # fmt: skip
    counts = shell.run(f"""
fd = os.open({target.volume + "/a.txt"!r}, os.O_RDONLY)
codes = {{}}
for _ in range(3000):
    try:
        os.pread(fd, 16, 0)
        codes["ok"] = codes.get("ok", 0) + 1
    except OSError as e:
        codes[str(e.errno)] = codes.get(str(e.errno), 0) + 1
os.close(fd)
result = codes
""")
    assert set(counts) <= {"ok", str(errno.EIO)}, counts
    failed = 100 * counts.get(str(errno.EIO), 0) / 3000
    assert 25 <= failed <= 35, f"{failed:.1f}% of reads failed, wanted 30 +- 5"


def test_latency_adds_the_configured_delay(io: IOFamily, target: Target, shell: Shell) -> None:
    timing = f"""
fd = os.open({target.volume + "/a.txt"!r}, os.O_RDONLY)
took = []
for _ in range(10):
    t = time.monotonic(); data = os.pread(fd, 16, 0); took.append(time.monotonic() - t)
os.close(fd)
result = [min(took), sum(took) / len(took), data.decode()]
"""
    _, before_mean, _ = shell.run(timing)
    _apply(io, target, io_fault(target.volume, "latency", delay="80ms", methods=["read"]))
    after_min, after_mean, data = shell.run(timing)
    assert data == "hello faultline\n"  # delayed, not damaged
    assert after_min >= 0.080, f"fastest read took {after_min * 1000:.1f} ms"
    assert after_mean - before_mean >= 0.075


def test_attr_override_changes_stat_inside_only(io: IOFamily, target: Target, shell: Shell) -> None:
    path = target.volume + "/a.txt"
    attr = {"size": 4242, "perm": 0o600, "uid": 1234, "mtime": 1_000_000_000.0}
    _apply(io, target, io_fault(target.volume, "attrOverride", attr=attr, path="*.txt"))
    inside = shell.run(f"""
st = os.stat({path!r}); other = os.stat({target.volume + "/data.bin"!r})
result = [st.st_size, st.st_mode & 0o7777, st.st_uid, st.st_mtime, other.st_size]
""")
    assert inside == [4242, 0o600, 1234, 1_000_000_000.0, 255 * 64]
    outside = os.stat(path)
    assert (outside.st_size, outside.st_uid) == (16, 0)


def test_mistake_corrupts_at_most_occurrences_times_length_bytes(
    io: IOFamily, target: Target, shell: Shell
) -> None:
    mistake = {"filling": "zero", "maxOccurrences": 3, "maxLength": 5}
    _apply(io, target, io_fault(target.volume, "mistake", mistake=mistake, methods=["read"]))
    reads = shell.run(f"""
fd = os.open({target.volume + "/data.bin"!r}, os.O_RDONLY)
result = [os.pread(fd, 4096, 0).hex() for _ in range(40)]
os.close(fd)
""")
    original = (bytes(range(1, 256)) * 64)[:4096]
    for text in reads:
        data = bytes.fromhex(text)
        assert len(data) == 4096
        changed = [i for i in range(4096) if data[i] != original[i]]
        assert 1 <= len(changed) <= 15, len(changed)
        assert all(data[i] == 0 for i in changed)  # zero filling
    with open(target.volume + "/data.bin", "rb") as f:
        assert f.read(4096) == original  # the real file is untouched


def test_path_glob_and_methods_select_what_fails(
    io: IOFamily, target: Target, shell: Shell
) -> None:
    with open(target.volume + "/app.log", "w") as f:
        f.write("log line\n")
    _apply(io, target, io_fault(target.volume, "fault", errno=errno.EACCES, path="*.log",
                                methods=["open"]))  # fmt: skip
    assert shell.run(f"result = open({target.volume + '/a.txt'!r}).read()") == "hello faultline\n"
    with pytest.raises(ShellError) as failed:
        shell.run(f"open({target.volume + '/app.log'!r})")
    assert failed.value.errno == errno.EACCES
    assert shell.run(f"result = os.stat({target.volume + '/app.log'!r}).st_size") == 9


def test_faults_on_one_volume_compose(io: IOFamily, target: Target, shell: Shell) -> None:
    _apply(
        io, target,
        io_fault(target.volume, "latency", delay="60ms", methods=["read"]),
        io_fault(target.volume, "fault", errno=errno.EIO, methods=["read"], path="data.bin"),
    )  # fmt: skip
    assert len(target.faultline_mounts()) == 1
    took = shell.run(f"""
t = time.monotonic()
try:
    os.pread(os.open({target.volume + "/data.bin"!r}, os.O_RDONLY), 8, 0)
    result = ["no error"]
except OSError as e:
    result = [e.errno]
result.append(time.monotonic() - t)
t = time.monotonic(); text = open({target.volume + "/a.txt"!r}).read()
result += [time.monotonic() - t, text]
""")
    assert took[0] == errno.EIO and took[1] >= 0.060  # delayed *and* failed
    assert took[2] >= 0.060 and took[3] == "hello faultline\n"  # delayed only


def test_writes_pass_through_to_the_real_files(io: IOFamily, target: Target, shell: Shell) -> None:
    _apply(io, target, io_fault(target.volume, "latency", delay="10ms", methods=["write"]))
    shell.run(f"""
os.makedirs({target.volume + "/sub/dir"!r})
with open({target.volume + "/sub/dir/new.txt"!r}, "w") as f:
    f.write("written during the fault\\n" * 100)
os.rename({target.volume + "/sub/dir/new.txt"!r}, {target.volume + "/sub/moved.txt"!r})
os.symlink("moved.txt", {target.volume + "/sub/link"!r})
""")
    with open(os.path.join(target.volume, "sub/moved.txt")) as f:  # host view: no layer
        assert f.read() == "written during the fault\n" * 100
    assert os.readlink(os.path.join(target.volume, "sub/link")) == "moved.txt"
    listing = shell.run(f"result = sorted(os.listdir({target.volume + '/sub'!r}))")
    assert listing == ["dir", "link", "moved.txt"]
