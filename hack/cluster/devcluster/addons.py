"""Cluster add-ons applied after the node is Ready: the cluster DNS and the default StorageClass
(devcluster.storage).

CoreDNS is built from source (hack/cluster/build.sh) with only the kubernetes, cache, health and
ready plugins, so Service names resolve in pods (`demo-http.<ns>.svc.cluster.local`). There is
no `forward` plugin on purpose: pods never query a resolver outside the host. When the binary
has not been built, the cluster runs without DNS and says so.
"""

from __future__ import annotations

import sys

from devcluster.settings import CLUSTER_DOMAIN, DNS_SERVICE_IP, REPO, Settings

COREFILE = f""".:53 {{
    errors
    health :8080
    ready :8181
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 30
    loadbalance
}}
"""


def coredns_manifest(image: str) -> str:
    corefile = "\n".join("    " + line for line in COREFILE.splitlines())
    return f"""apiVersion: v1
kind: ServiceAccount
metadata: {{name: coredns, namespace: kube-system}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: "faultline:coredns"}}
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: "faultline:coredns"}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "faultline:coredns"}}
subjects: [{{kind: ServiceAccount, name: coredns, namespace: kube-system}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: coredns, namespace: kube-system}}
data:
  Corefile: |
{corefile}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: coredns, namespace: kube-system, labels: {{k8s-app: kube-dns}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{k8s-app: kube-dns}}}}
  template:
    metadata: {{labels: {{k8s-app: kube-dns}}}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      containers:
        - name: coredns
          image: {image}
          imagePullPolicy: IfNotPresent
          args: ["-conf", "/etc/coredns/Corefile"]
          ports:
            - {{containerPort: 53, protocol: UDP, name: dns}}
            - {{containerPort: 53, protocol: TCP, name: dns-tcp}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8181}}, periodSeconds: 2}}
          livenessProbe: {{httpGet: {{path: /health, port: 8080}}, periodSeconds: 10}}
          volumeMounts: [{{name: config, mountPath: /etc/coredns, readOnly: true}}]
      volumes: [{{name: config, configMap: {{name: coredns}}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: kube-dns, namespace: kube-system, labels: {{k8s-app: kube-dns}}}}
spec:
  clusterIP: {DNS_SERVICE_IP}
  selector: {{k8s-app: kube-dns}}
  ports:
    - {{name: dns, port: 53, protocol: UDP}}
    - {{name: dns-tcp, port: 53, protocol: TCP}}
"""


def apply_addons(s: Settings) -> None:
    from devcluster.lifecycle import kubectl, log

    sys.path.insert(0, str(REPO / "hack/images"))
    from localimages.catalog import COREDNS, COREDNS_BINARY

    from devcluster.storage import apply_storage

    if COREDNS_BINARY.exists():
        kubectl(s, "apply", "-f", "-", stdin=coredns_manifest(COREDNS.tag))
        kubectl(s, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=300s")
    else:
        log("CoreDNS not built (hack/cluster/build.sh coredns): the cluster has no DNS")
    apply_storage(s)
