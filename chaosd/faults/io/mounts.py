"""Mount-table facts and mount syscalls for the IO fault layer.

Recovery must find Faultline's FUSE mounts with no memory of having made them, so each one has
a recognisable fs type and source (`fuse.faultline`, `faultline:<target-id>`) that
`/proc/<pid>/mountinfo` shows. The syscalls are thin ctypes wrappers: the layer's server calls
them itself after entering the target's mount namespace (chaosd.nsexec runs commands and forked
children there, but the server must enter before starting trio, so it needs its own setns).
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

FSTYPE = "fuse.faultline"
SOURCE_PREFIX = "faultline:"
CLONE_NEWNS = 0x00020000
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]


@dataclass(frozen=True)
class MountEntry:
    mount_id: int
    parent_id: int
    device: str
    mount_point: str
    optional: tuple[str, ...]
    fstype: str
    source: str

    @property
    def target_id(self) -> str | None:
        if self.fstype == FSTYPE and self.source.startswith(SOURCE_PREFIX):
            return self.source[len(SOURCE_PREFIX) :]
        return None

    @property
    def shared(self) -> bool:
        return any(tag.startswith("shared:") for tag in self.optional)


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(field):
        code = field[i + 1 : i + 4]
        if field[i] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[MountEntry]:
    entries = []
    for line in text.splitlines():
        if not line.strip():
            continue
        left, _, right = line.partition(" - ")
        fields = left.split(" ")
        rest = right.split(" ")
        entries.append(
            MountEntry(
                mount_id=int(fields[0]),
                parent_id=int(fields[1]),
                device=fields[2],
                mount_point=_unescape(fields[4]),
                optional=tuple(fields[6:]),
                fstype=rest[0],
                source=_unescape(rest[1]) if len(rest) > 1 else "",
            )
        )
    return entries


def read_mounts(pid: int | str) -> list[MountEntry]:
    """Mounts as `pid` sees them; FileNotFoundError/ProcessLookupError when it is gone."""
    with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return parse_mountinfo(f.read())


def faultline_mounts(entries: list[MountEntry], target_id: str | None = None) -> list[MountEntry]:
    return [
        e
        for e in entries
        if e.target_id is not None and (target_id is None or e.target_id == target_id)
    ]


def covering_mount(entries: list[MountEntry], path: str) -> MountEntry | None:
    """The mount `path` lives on: the last-mounted entry with the longest matching prefix."""
    best: MountEntry | None = None
    for e in entries:
        mp = e.mount_point
        inside = path == mp or path.startswith(mp.rstrip("/") + "/")
        if inside and (best is None or len(mp) >= len(best.mount_point)):
            best = e
    return best


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def enter_mount_ns(pid: int) -> None:
    """setns(2) into `pid`'s mount namespace; only legal while the process is single-threaded."""
    fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.setns(fd, CLONE_NEWNS), f"setns into the mount namespace of pid {pid}")
    finally:
        os.close(fd)


def mount_fuse(fuse_fd: int, path: str, target_id: str, root_mode: int) -> None:
    data = (
        f"fd={fuse_fd},rootmode={root_mode & 0o170000:o},user_id=0,group_id=0,"
        "allow_other,default_permissions"
    )
    source = f"{SOURCE_PREFIX}{target_id}".encode()
    _check(
        _libc.mount(source, path.encode(), FSTYPE.encode(), 0, data.encode()),
        f"mount FUSE layer over {path}",
    )


def detach(path: str) -> None:
    """Lazy unmount: new opens see the original directory, open files keep working."""
    _check(_libc.umount2(path.encode(), MNT_DETACH), f"umount -l {path}")
