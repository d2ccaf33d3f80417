"""The FUSE filesystem the IO faults live in: a passthrough to the directory it covers.

Every operation goes to the original directory through a descriptor opened before the mount
(`*at` calls relative to it), so data written through the layer lands in the real files and
nothing is lost when the layer is unmounted. The injector is consulted around each operation;
swapping it (`layer.injector = ...`) reconfigures a live mount without remounting.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from typing import Any

import pyfuse3
import trio

from chaosd.faults.io.inject import Injector
from chaosd.faults.io.nodes import NodeTable

_libc = ctypes.CDLL(None, use_errno=True)
# How long the kernel may cache attributes while no fault is configured; with faults every
# operation must reach the layer, so the timeout drops to zero.
PASSTHROUGH_TIMEOUT = 1.0


@contextlib.contextmanager
def _os_errors() -> Iterator[None]:
    try:
        yield
    except OSError as e:
        raise pyfuse3.FUSEError(e.errno or errno.EIO) from None


class Layer(pyfuse3.Operations):
    enable_writeback_cache = False

    def __init__(self, root_fd: int, injector: Injector) -> None:
        super().__init__()
        self.root = root_fd
        self.injector = injector
        self.nodes = NodeTable(os.fstat(root_fd))
        self.files: dict[int, tuple[int, str]] = {}  # fh (our fd) -> (node, path)
        self.dirs: dict[int, tuple[int, str, list[str]]] = {}

    @property
    def open_handles(self) -> int:
        return len(self.files) + len(self.dirs)

    # -- helpers -------------------------------------------------------------------------------

    async def _inject(self, method: str, path: str) -> None:
        decision = self.injector.decide(method, path)
        if decision.delay_s > 0:
            await trio.sleep(decision.delay_s)
        if decision.errno:
            raise pyfuse3.FUSEError(decision.errno)

    def _rel(self, path: str) -> str:
        return path or "."

    def _lstat(self, path: str) -> os.stat_result:
        with _os_errors():
            return os.stat(self._rel(path), dir_fd=self.root, follow_symlinks=False)

    def _entry(self, path: str, st: os.stat_result, method: str) -> pyfuse3.EntryAttributes:
        attrs = pyfuse3.EntryAttributes()
        attrs.st_ino = self.nodes.node_for(st, path)
        for key in ("st_mode", "st_nlink", "st_uid", "st_gid", "st_rdev", "st_size"):
            setattr(attrs, key, getattr(st, key))
        attrs.st_blksize = st.st_blksize
        attrs.st_blocks = st.st_blocks
        attrs.st_atime_ns, attrs.st_mtime_ns = st.st_atime_ns, st.st_mtime_ns
        attrs.st_ctime_ns = st.st_ctime_ns
        timeout = 0.0 if self.injector.active else PASSTHROUGH_TIMEOUT
        attrs.attr_timeout = attrs.entry_timeout = timeout
        self.injector.override_attrs(method, path, attrs)
        return attrs

    def _child(self, parent: int, name: bytes) -> str:
        base = self.nodes.path(parent)
        text = os.fsdecode(name)
        if text == ".":
            return base
        if text == "..":
            return os.path.dirname(base)
        return f"{base}/{text}" if base else text

    def _own(self, path: str, parent: str, ctx: Any) -> None:
        """New entries belong to the caller, as they would without the layer (we run as root)."""
        gid = -1 if self._lstat(parent).st_mode & stat.S_ISGID else ctx.gid
        with _os_errors():
            os.chown(path, ctx.uid, gid, dir_fd=self.root, follow_symlinks=False)

    def _new_entry(self, path: str, method: str) -> pyfuse3.EntryAttributes:
        attrs = self._entry(path, self._lstat(path), method)
        self.nodes.remember(attrs.st_ino)
        return attrs

    # -- names ---------------------------------------------------------------------------------

    async def lookup(self, parent_inode: int, name: bytes, ctx: Any) -> pyfuse3.EntryAttributes:
        path = self._child(parent_inode, name)
        await self._inject("lookup", path)
        return self._new_entry(path, "lookup")

    async def forget(self, inode_list: Sequence[tuple[int, int]]) -> None:
        for node, count in inode_list:
            self.nodes.forget(node, count)

    async def getattr(self, inode: int, ctx: Any) -> pyfuse3.EntryAttributes:
        path = self.nodes.path(inode)
        await self._inject("getattr", path)
        try:
            st = os.stat(self._rel(path), dir_fd=self.root, follow_symlinks=False)
        except FileNotFoundError:
            fd = next((fh for fh, (n, _) in self.files.items() if n == inode), None)
            if fd is None:
                raise pyfuse3.FUSEError(errno.ENOENT) from None
            st = os.fstat(fd)  # unlinked but still open: answer from the open file
        return self._entry(path, st, "getattr")

    async def setattr(
        self, inode: int, attr: Any, fields: Any, fh: int | None, ctx: Any
    ) -> pyfuse3.EntryAttributes:
        path = self.nodes.path(inode)
        await self._inject("setattr", path)
        rel = self._rel(path)
        with _os_errors():
            if fields.update_size:
                if fh is not None:
                    os.ftruncate(fh, attr.st_size)
                else:
                    fd = os.open(rel, os.O_WRONLY | os.O_NOFOLLOW, dir_fd=self.root)
                    try:
                        os.ftruncate(fd, attr.st_size)
                    finally:
                        os.close(fd)
            if fields.update_mode:
                os.chmod(rel, stat.S_IMODE(attr.st_mode), dir_fd=self.root)
            if fields.update_uid or fields.update_gid:
                uid = attr.st_uid if fields.update_uid else -1
                gid = attr.st_gid if fields.update_gid else -1
                os.chown(rel, uid, gid, dir_fd=self.root, follow_symlinks=False)
            if fields.update_atime or fields.update_mtime:
                now = os.stat(rel, dir_fd=self.root, follow_symlinks=False)
                times = (
                    attr.st_atime_ns if fields.update_atime else now.st_atime_ns,
                    attr.st_mtime_ns if fields.update_mtime else now.st_mtime_ns,
                )
                os.utime(rel, ns=times, dir_fd=self.root, follow_symlinks=False)
        return self._entry(path, self._lstat(path), "setattr")

    async def readlink(self, inode: int, ctx: Any) -> bytes:
        path = self.nodes.path(inode)
        await self._inject("readlink", path)
        with _os_errors():
            return os.fsencode(os.readlink(self._rel(path), dir_fd=self.root))

    async def mknod(
        self, parent_inode: int, name: bytes, mode: int, rdev: int, ctx: Any
    ) -> pyfuse3.EntryAttributes:
        path = self._child(parent_inode, name)
        await self._inject("create", path)
        with _os_errors():
            os.mknod(path, mode, rdev, dir_fd=self.root)
        self._own(path, self.nodes.path(parent_inode), ctx)
        return self._new_entry(path, "create")

    async def mkdir(
        self, parent_inode: int, name: bytes, mode: int, ctx: Any
    ) -> pyfuse3.EntryAttributes:
        path = self._child(parent_inode, name)
        await self._inject("mkdir", path)
        with _os_errors():
            os.mkdir(path, mode, dir_fd=self.root)
        self._own(path, self.nodes.path(parent_inode), ctx)
        return self._new_entry(path, "mkdir")

    async def unlink(self, parent_inode: int, name: bytes, ctx: Any) -> None:
        path = self._child(parent_inode, name)
        await self._inject("unlink", path)
        with _os_errors():
            os.unlink(path, dir_fd=self.root)

    async def rmdir(self, parent_inode: int, name: bytes, ctx: Any) -> None:
        path = self._child(parent_inode, name)
        await self._inject("rmdir", path)
        with _os_errors():
            os.rmdir(path, dir_fd=self.root)

    async def symlink(
        self, parent_inode: int, name: bytes, target: bytes, ctx: Any
    ) -> pyfuse3.EntryAttributes:
        path = self._child(parent_inode, name)
        await self._inject("symlink", path)
        with _os_errors():
            os.symlink(target, path, dir_fd=self.root)
        self._own(path, self.nodes.path(parent_inode), ctx)
        return self._new_entry(path, "symlink")

    async def rename(
        self, parent_inode_old: int, name_old: bytes, parent_inode_new: int, name_new: bytes,
        flags: int, ctx: Any,
    ) -> None:  # fmt: skip
        old = self._child(parent_inode_old, name_old)
        new = self._child(parent_inode_new, name_new)
        await self._inject("rename", old)
        if _libc.renameat2(self.root, os.fsencode(old), self.root, os.fsencode(new), flags):
            raise pyfuse3.FUSEError(ctypes.get_errno())
        self.nodes.renamed(old, new, exchange=bool(flags & 2))  # RENAME_EXCHANGE

    async def link(
        self, inode: int, new_parent_inode: int, new_name: bytes, ctx: Any
    ) -> pyfuse3.EntryAttributes:
        path = self._child(new_parent_inode, new_name)
        await self._inject("link", path)
        with _os_errors():
            os.link(
                self._rel(self.nodes.path(inode)), path, src_dir_fd=self.root,
                dst_dir_fd=self.root, follow_symlinks=False,
            )  # fmt: skip
        return self._new_entry(path, "link")

    async def statfs(self, ctx: Any) -> pyfuse3.StatvfsData:
        await self._inject("statfs", "")
        st = os.fstatvfs(self.root)
        out = pyfuse3.StatvfsData()
        for key in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
                    "f_ffree", "f_favail", "f_namemax"):  # fmt: skip
            setattr(out, key, getattr(st, key))
        return out

    # -- files ---------------------------------------------------------------------------------

    def _file_info(self, fd: int, node: int, path: str) -> pyfuse3.FileInfo:
        self.files[fd] = (node, path)
        # Data faults need every read and write to reach us, so those files skip the page cache;
        # other files keep it (mmap keeps working), but never keep stale pages across opens.
        return pyfuse3.FileInfo(fh=fd, direct_io=self.injector.touches_data(path), keep_cache=False)

    async def open(self, inode: int, flags: int, ctx: Any) -> pyfuse3.FileInfo:
        path = self.nodes.path(inode)
        await self._inject("open", path)
        with _os_errors():
            fd = os.open(self._rel(path), flags & ~os.O_CREAT | os.O_CLOEXEC, dir_fd=self.root)
        return self._file_info(fd, inode, path)

    async def create(
        self, parent_inode: int, name: bytes, mode: int, flags: int, ctx: Any
    ) -> tuple[pyfuse3.FileInfo, pyfuse3.EntryAttributes]:
        path = self._child(parent_inode, name)
        await self._inject("create", path)
        with _os_errors():
            fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, mode, dir_fd=self.root)
        try:
            self._own(path, self.nodes.path(parent_inode), ctx)
            attrs = self._entry(path, os.fstat(fd), "create")
        except BaseException:
            os.close(fd)
            raise
        self.nodes.remember(attrs.st_ino)
        return self._file_info(fd, attrs.st_ino, path), attrs

    async def read(self, fh: int, off: int, size: int) -> bytes:
        path = self.files[fh][1]
        await self._inject("read", path)
        with _os_errors():
            data = os.pread(fh, size, off)
        return self.injector.corrupt("read", path, data)

    async def write(self, fh: int, off: int, buf: bytes) -> int:
        path = self.files[fh][1]
        await self._inject("write", path)
        data = self.injector.corrupt("write", path, buf)
        with _os_errors():
            return os.pwrite(fh, data, off)

    async def flush(self, fh: int) -> None:
        await self._inject("flush", self.files[fh][1])

    async def fsync(self, fh: int, datasync: bool) -> None:
        await self._inject("fsync", self.files[fh][1])
        with _os_errors():
            (os.fdatasync if datasync else os.fsync)(fh)

    async def release(self, fh: int) -> None:
        _, path = self.files.pop(fh)
        try:
            await self._inject("release", path)  # the kernel ignores errors here; delays count
        except pyfuse3.FUSEError:
            pass
        finally:
            os.close(fh)

    # -- directories ---------------------------------------------------------------------------

    async def opendir(self, inode: int, ctx: Any) -> int:
        path = self.nodes.path(inode)
        await self._inject("opendir", path)
        with _os_errors():
            fd = os.open(self._rel(path), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
                         dir_fd=self.root)  # fmt: skip
        self.dirs[fd] = (inode, path, [])
        return fd

    async def readdir(self, fh: int, start_id: int, token: Any) -> None:
        _, path, names = self.dirs[fh]
        await self._inject("readdir", path)
        if start_id == 0:
            with _os_errors():
                names[:] = sorted(os.listdir(fh))
        for index in range(start_id, len(names)):
            child = f"{path}/{names[index]}" if path else names[index]
            try:
                st = os.stat(child, dir_fd=self.root, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed since the listing; skipping keeps offsets stable
            attrs = self._entry(child, st, "readdir")
            if not pyfuse3.readdir_reply(token, os.fsencode(names[index]), attrs, index + 1):
                return
            self.nodes.remember(attrs.st_ino)

    async def releasedir(self, fh: int) -> None:
        self.dirs.pop(fh, None)
        os.close(fh)

    async def fsyncdir(self, fh: int, datasync: bool) -> None:
        with _os_errors():
            os.fsync(fh)
