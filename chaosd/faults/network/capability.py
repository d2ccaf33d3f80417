"""What this node's kernel can do for network faults, probed once per process.

Probes run in a throwaway netns (`unshare --net`), so they never touch a real interface or ruleset.
"""

from __future__ import annotations

import functools

from chaosd import nsexec
from chaosd.faults.network.plan import Capabilities


@functools.cache
def probe() -> Capabilities:
    netem = nsexec.run_in_scratch_netns(
        ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]
    )
    queue = nsexec.run_in_scratch_netns(
        [
            "nft",
            "add table inet probe; add chain inet probe c;"
            " add rule inet probe c queue num 1 bypass",
        ]
    )
    return Capabilities(netem=netem.returncode == 0, nft_queue=queue.returncode == 0)
