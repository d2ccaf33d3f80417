"""The process family: a one-shot signal to a target's main process (container-kill).

Unlike network and IO faults there is nothing to keep in force and nothing to recover — the
kernel delivers the signal and the container runtime restarts the container — so this is not a
`FaultFamily` and nothing is journaled. It refuses PIDs whose loss would take the node down.
"""

from __future__ import annotations

import os
import signal as signals

from chaosd.faults.base import FaultError, TargetGone


class RefusedSignal(FaultError):
    """The PID is one chaosd will never signal (the host's init, chaosd itself)."""


class ProcessFamily:
    name = "process"

    def signal(self, pid: int, signal: int) -> str:
        """Send `signal` to `pid`; returns the signal's name."""
        if pid == 1:
            raise RefusedSignal("pid: refusing to signal PID 1 (the node's init)")
        if pid == os.getpid():
            raise RefusedSignal(f"pid: {pid} is chaosd itself")
        try:
            name = signals.Signals(signal).name
        except ValueError:
            name = f"SIG{signal}"  # real-time signals have no enum member
        try:
            os.kill(pid, signal)
        except ProcessLookupError as e:
            raise TargetGone(f"pid: no process with PID {pid}") from e
        except PermissionError as e:
            raise FaultError(f"pid: not permitted to signal PID {pid}: {e}") from e
        return name
