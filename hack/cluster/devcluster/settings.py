"""Where the dev cluster keeps its state, logs and binaries, and the addresses it uses.

Every path the cluster touches is derived from here, so teardown and the leftover check
know exactly what is the cluster's and never go near anything else on the host.
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

K8S_VERSION = os.environ.get("K8S_VERSION", "v1.33.13")
HELM_VERSION = os.environ.get("HELM_VERSION", "v3.18.6")
KUBECONFORM_VERSION = os.environ.get("KUBECONFORM_VERSION", "v0.7.0")
CACHE = Path(os.environ.get("FAULTLINE_CACHE", "/var/cache/faultline"))
REPO = Path(__file__).resolve().parents[3]

# Our own names so nothing we create can be mistaken for, or collide with, anything else.
BRIDGE = "faultline0"
CNI_NETWORK = "faultline"
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
API_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
ETCD_CLIENT_PORT = 12379
ETCD_PEER_PORT = 12380
API_PORT = 6443


def _node_ip() -> str:
    """The host address the node registers with: the source address of the default route."""
    out = subprocess.run(
        ["ip", "-4", "route", "get", "192.0.2.255"], capture_output=True, text=True, check=False
    ).stdout
    words = out.split()
    if "src" in words:
        return words[words.index("src") + 1]
    return "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    state: Path = Path(os.environ.get("FAULTLINE_CLUSTER_STATE", "/var/lib/faultline-cluster"))
    run: Path = Path("/run/faultline-cluster")
    logs: Path = Path(os.environ.get("FAULTLINE_CLUSTER_LOGS", "/var/log/faultline-cluster"))
    node_name: str = "faultline-dev"
    node_ip: str = field(default_factory=_node_ip)
    hostname: str = field(default_factory=socket.gethostname)

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state / "admin.kubeconfig"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def kubelet_root(self) -> Path:
        return self.state / "kubelet"

    @property
    def containerd_root(self) -> Path:
        return self.state / "containerd"

    @property
    def containerd_state(self) -> Path:
        return self.run / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_state / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        return self.state / "cni" / "net.d"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.state / "cni" / "ipam"

    @property
    def local_path_dir(self) -> Path:
        """Where the default StorageClass keeps volumes on the node (devcluster.storage)."""
        return self.state / "local-path"

    @property
    def k8s_bin(self) -> Path:
        return CACHE / "bin" / f"k8s-{K8S_VERSION}"

    @property
    def kubectl(self) -> Path:
        return self.k8s_bin / "kubectl"

    @property
    def helm(self) -> Path:
        return CACHE / "bin" / f"helm-{HELM_VERSION}" / "helm"

    @property
    def kubeconform(self) -> Path:
        return CACHE / "bin" / f"kubeconform-{KUBECONFORM_VERSION}" / "kubeconform"
