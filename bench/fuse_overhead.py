"""What the IO fault layer costs a target: passthrough throughput and time to apply.

Runs as root with a throwaway target (a process in its own mount namespace). Throughput is
measured from inside the target, on the same directory, first without the layer and then with a
pure-passthrough layer (an IO fault that never fires: percent 0), so the ratio is the layer's
own overhead. Reads follow the write, so both runs read from a warm page cache of the real
file (the layer drops its own cache at open, so every read goes through it). Time to apply is
apply() of a fresh layer until it is mounted and serving, p50 of several runs (each followed by
a recovery).

    .venv/bin/python bench/fuse_overhead.py [--mib 256] [--block-kib 128] [--applies 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "privileged" / "io"))

import iolab

from chaosd.faults.io import family, owned

THROUGHPUT = """
size, block = {size}, {block}
buf = os.urandom(block)
path = {path!r}
t = time.monotonic()
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for off in range(0, size, block):
    os.write(fd, buf)
os.fsync(fd)
os.close(fd)
write_s = time.monotonic() - t
t = time.monotonic()
fd = os.open(path, os.O_RDONLY)
while os.read(fd, block):
    pass
os.close(fd)
read_s = time.monotonic() - t
os.unlink(path)
result = [write_s, read_s]
"""


def _throughput(shell: iolab.Shell, path: str, size: int, block: int) -> tuple[float, float]:
    write_s, read_s = shell.run(THROUGHPUT.format(size=size, block=block, path=path))
    mb = size / 1e6
    return mb / write_s, mb / read_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--block-kib", type=int, default=128)
    parser.add_argument("--applies", type=int, default=15)
    args = parser.parse_args()
    size, block = args.mib * 2**20, args.block_kib * 1024

    with iolab.target() as target:
        shell = target.shell()
        try:
            path = target.volume + "/bench.bin"
            plain_w, plain_r = _throughput(shell, path, size, block)
            idle = iolab.io_fault(target.volume, "fault", errno=5, percent=0, path="never-*")
            family.apply(target.ref, family.plan(target.ref, [idle]))
            layer_w, layer_r = _throughput(shell, path, size, block)
            family.recover(target.ref)
            iolab.wait_for(lambda: not owned(target.pid)["servers"], "layer to go")

            fault = iolab.io_fault(target.volume, "fault", errno=5, path="a.txt")
            applies = []
            for _ in range(args.applies):
                t = time.monotonic()
                family.apply(target.ref, family.plan(target.ref, [fault]))
                applies.append(time.monotonic() - t)
                family.recover(target.ref)
                iolab.wait_for(lambda: not owned(target.pid)["servers"], "layer to go")
        finally:
            shell.close()

    print(f"file {args.mib} MiB, block {args.block_kib} KiB, from inside the target")
    print(f"write  plain {plain_w:8.1f} MB/s   through layer {layer_w:8.1f} MB/s   "
          f"ratio {layer_w / plain_w:.2f}")  # fmt: skip
    print(f"read   plain {plain_r:8.1f} MB/s   through layer {layer_r:8.1f} MB/s   "
          f"ratio {layer_r / plain_r:.2f}")  # fmt: skip
    print(f"time to apply (mount + serving), {len(applies)} runs: "
          f"p50 {statistics.median(applies) * 1000:.0f} ms, "
          f"min {min(applies) * 1000:.0f} ms, max {max(applies) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
