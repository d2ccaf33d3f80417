"""Configuration files for containerd, CNI, the kubelet and kube-proxy.

Written on every `up` (cheap, and a changed setting takes effect on the next restart). Each
setting that differs from the upstream default is there for a reason this machine imposes,
noted beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from devcluster.settings import (
    BRIDGE,
    CLUSTER_DOMAIN,
    CNI_NETWORK,
    DNS_SERVICE_IP,
    POD_CIDR,
    Settings,
)

PAUSE_IMAGE = "faultline.local/pause:3.10-catatonit"


def containerd_config(s: Settings) -> str:
    # Our own root, state and socket so a host containerd (if any) is never touched.
    return f"""version = 2
root = "{s.containerd_root}"
state = "{s.containerd_state}"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{s.containerd_socket}"

[ttrpc]
  address = "{s.containerd_state}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{s.state}/containerd-opt"

[plugins."io.containerd.grpc.v1.cri"]
  # Nothing can be pulled here: the sandbox image is built and imported locally.
  sandbox_image = "{PAUSE_IMAGE}"
  # Root lacks CAP_SYS_RESOURCE on these machines; without this every sandbox fails to start.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # PID 1 is not systemd: the cgroupfs driver, matching the kubelet.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{s.cni_conf_dir}"
"""


def cni_conflist(s: Settings) -> str:
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": CNI_NETWORK,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": True,
                    # A pod reaching itself through its own Service needs hairpin.
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(s.cni_ipam_dir),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


def kubelet_config(s: Settings) -> str:
    pki = s.pki
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "containerRuntimeEndpoint": f"unix://{s.containerd_socket}",
        "cgroupDriver": "cgroupfs",  # no systemd as PID 1
        "failCgroupV1": False,  # the hosts run cgroup v1 (hybrid)
        "failSwapOn": False,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        "clusterDomain": CLUSTER_DOMAIN,
        "clusterDNS": [DNS_SERVICE_IP],
        # Pods must never ask the host's upstream resolver: the cluster DNS is the only server.
        "resolvConf": str(s.state / "resolv.conf"),
        # The locally imported images cannot be pulled again, so never garbage-collect them.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        # A busy shared disk must not make the node evict the test workloads.
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "podCIDR": POD_CIDR,
        "serializeImagePulls": False,
        "staticPodPath": "",
        "volumePluginDir": str(s.state / "volume-plugins"),
        "port": 10250,
        "healthzPort": 10248,
        "readOnlyPort": 0,
    }
    return yaml.safe_dump(config)


def kube_proxy_config(s: Settings) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        # IPVS is not built into these kernels; nftables keeps all rules in one table of ours.
        "mode": "nftables",
        "clientConnection": {"kubeconfig": str(s.state / "kube-proxy.kubeconfig")},
        "clusterCIDR": POD_CIDR,
        "hostnameOverride": s.node_name,
        "bindAddress": "127.0.0.1",
        # NodePorts only on the node's own address, never on every host interface.
        "nodePortAddresses": ["primary"],
        "metricsBindAddress": "127.0.0.1:10249",
        "healthzBindAddress": "127.0.0.1:10256",
        # Leave the host's conntrack sysctls alone: the shared machine is not ours to tune.
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
    }
    return yaml.safe_dump(config)


def _write_if_changed(path: Path, content: str) -> bool:
    # kube-proxy exits when its config file changes, so an unchanged file must not be touched.
    if path.exists() and path.read_text() == content:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(content)
    tmp.rename(path)
    return True


def write_all(s: Settings) -> set[str]:
    """Write every config file; return the components whose configuration changed."""
    for d in (
        s.state,
        s.logs,
        s.pids,
        s.cni_conf_dir,
        s.cni_ipam_dir,
        s.kubelet_root,
        s.containerd_root,
        s.containerd_state,
    ):
        d.mkdir(parents=True, exist_ok=True)
    changed = set()
    if _write_if_changed(s.state / "containerd.toml", containerd_config(s)):
        changed.add("containerd")
    _write_if_changed(s.cni_conf_dir / "10-faultline.conflist", cni_conflist(s))
    if _write_if_changed(s.state / "kubelet.yaml", kubelet_config(s)):
        changed.add("kubelet")
    if _write_if_changed(s.state / "kube-proxy.yaml", kube_proxy_config(s)):
        changed.add("kube-proxy")
    resolv = f"nameserver {DNS_SERVICE_IP}\nsearch {CLUSTER_DOMAIN}\noptions ndots:5\n"
    _write_if_changed(s.state / "resolv.conf", resolv)
    return changed
