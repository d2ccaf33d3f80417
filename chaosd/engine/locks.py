"""One lock per target, held across threads of this process and across chaosd processes that
share a state directory (a server and standalone CLI attacks), so two writers never interleave
apply and recover on the same target."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class TargetLocks:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "locks"
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, target_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(target_id, threading.Lock())
        with lock:
            # Lock files are never deleted: unlinking one while another process waits on it
            # would let two holders exist at once.
            fd = os.open(self.dir / f"{target_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock
