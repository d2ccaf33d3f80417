"""Network faults (partition, loss, delay, duplicate, corrupt, bandwidth) for one target.

`family` is the FaultFamily chaosd's engine uses; `owned(pid)` lists what Faultline holds in a
netns (used by crash-safety checks). See docs/chaosd-network.md.
"""

from chaosd.faults.network.family import NetworkFamily, owned
from chaosd.faults.network.plan import Capabilities, NetworkPlan, build_plan

family = NetworkFamily()

__all__ = ["Capabilities", "NetworkFamily", "NetworkPlan", "build_plan", "family", "owned"]
