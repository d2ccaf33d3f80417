"""The dev cluster's default StorageClass, as kind ships one: rancher's local-path provisioner.

A PersistentVolumeClaim without a storageClassName (the chart's dashboard PVC, the demo's) gets a
folder under the node's state dir, so data outlives the pod that wrote it and a `down` without
`--purge` keeps it, like etcd's data. The provisioner is built from the Go module proxy by
hack/cluster/build.sh; the manifest is ours. Its helper pods (mkdir/rm of a volume's folder) run
the demo-http image's busybox, so nothing needs pulling.

Warm start-ups stay quick: the manifest's hash sits on the Deployment (and its pod template, so a
change rolls the pod) and on the StorageClass; when both carry the current hash nothing is
applied.
"""

from __future__ import annotations

import hashlib
import json

from devcluster.settings import Settings

NAMESPACE = "local-path-storage"
NAME = "local-path-provisioner"
STORAGE_CLASS = "standard"
PROVISIONER = "rancher.io/local-path"
HASH_ANNOTATION = "faultline.dev/manifest-hash"

# The helper pod mounts the volume's parent folder and is given VOL_DIR; the dashboard runs as
# a non-root user and a hostPath volume ignores fsGroup, so the folder is world-writable.
# `busybox <applet>` rather than applet links: the demo-http image (shared by every test, and
# re-imported whenever its contents change) stays exactly as it is.
SETUP = 'set -eu\nbusybox mkdir -m 0777 -p "$VOL_DIR"\n'
TEARDOWN = 'set -eu\nbusybox rm -rf "$VOL_DIR"\n'


def _helper_pod(helper_image: str) -> str:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "helper-pod"},
        "spec": {
            "priorityClassName": "system-node-critical",
            # The provisioner copies this container's output into its own log, by this name.
            "containers": [
                {"name": "helper-pod", "image": helper_image, "imagePullPolicy": "Never"}
            ],
        },
    }
    return json.dumps(pod, indent=2)  # JSON is YAML: the provisioner reads it as YAML


def local_path_manifest(
    s: Settings, image: str, helper_image: str, image_id: str
) -> tuple[str, str]:
    """(manifest, its hash): the hash of everything else in it, annotated on the objects."""
    unhashed = _manifest(s, image, helper_image, image_id, digest="")
    digest = hashlib.sha256(unhashed.encode()).hexdigest()[:16]
    return _manifest(s, image, helper_image, image_id, digest=digest), digest


def _manifest(s: Settings, image: str, helper_image: str, image_id: str, *, digest: str) -> str:
    config = {
        "nodePathMap": [
            {
                "node": "DEFAULT_PATH_FOR_NON_LISTED_NODES",
                "paths": [str(s.local_path_dir)],
            }
        ],
    }
    data = {
        "config.json": json.dumps(config, indent=2),
        "setup": SETUP,
        "teardown": TEARDOWN,
        "helperPod.yaml": _helper_pod(helper_image),
    }
    # JSON strings are valid YAML scalars: no indentation games with multi-line values.
    data_yaml = "\n".join(f"  {key}: {json.dumps(value)}" for key, value in data.items())
    return f"""apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: {NAME}, namespace: {NAMESPACE}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: "faultline:{NAME}"}}
rules:
  - apiGroups: [""]
    resources: [nodes, persistentvolumeclaims]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [persistentvolumes]
    verbs: [get, list, watch, create, delete, patch, update]
  - apiGroups: [""]
    resources: [persistentvolumeclaims/status]
    verbs: [update, patch]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch, update]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: "faultline:{NAME}"}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "faultline:{NAME}"}}
subjects: [{{kind: ServiceAccount, name: {NAME}, namespace: {NAMESPACE}}}]
---
# Helper pods and the config live in the provisioner's own namespace only.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: {NAME}, namespace: {NAMESPACE}}}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch, create, delete]
  - apiGroups: [""]
    resources: [pods/log, configmaps]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {NAME}, namespace: {NAMESPACE}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {NAME}}}
subjects: [{{kind: ServiceAccount, name: {NAME}, namespace: {NAMESPACE}}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: local-path-config, namespace: {NAMESPACE}}}
data:
{data_yaml}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {NAME}
  namespace: {NAMESPACE}
  annotations: {{{HASH_ANNOTATION}: "{digest}"}}
spec:
  replicas: 1
  strategy: {{type: Recreate}}
  selector: {{matchLabels: {{app: {NAME}}}}}
  template:
    metadata:
      labels: {{app: {NAME}}}
      # The tag is pinned but a rebuilt image keeps it: the image ID rolls the pod, and so does
      # any other change to this manifest (the ConfigMap's included).
      annotations: {{faultline.dev/image-id: "{image_id}", {HASH_ANNOTATION}: "{digest}"}}
    spec:
      serviceAccountName: {NAME}
      priorityClassName: system-cluster-critical
      containers:
        - name: provisioner
          image: {image}
          imagePullPolicy: Never
          args:
            - start
            - --config=/etc/config/config.json
            - --helper-image={helper_image}
            - --service-account-name={NAME}
            - --configmap-name=local-path-config
          env:
            - name: POD_NAMESPACE
              valueFrom: {{fieldRef: {{fieldPath: metadata.namespace}}}}
            # Re-read config.json and helperPod.yaml when the ConfigMap changes.
            - {{name: CONFIG_MOUNT_PATH, value: /etc/config}}
          volumeMounts: [{{name: config, mountPath: /etc/config, readOnly: true}}]
      volumes: [{{name: config, configMap: {{name: local-path-config}}}}]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
    {HASH_ANNOTATION}: "{digest}"
provisioner: {PROVISIONER}
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
"""


def applied_hashes(s: Settings) -> list[str]:
    """The manifest hash on the Deployment and on the StorageClass (one call; a missing object
    gives no hash, so either one deleted by hand means "apply again")."""
    from devcluster.lifecycle import kubectl

    out = kubectl(
        s, "-n", NAMESPACE, "get", f"deployment/{NAME}", f"storageclass/{STORAGE_CLASS}",
        "--ignore-not-found", "-o", "json", check=False,
    )  # fmt: skip
    try:
        items = json.loads(out).get("items", []) if out.strip() else []
    except json.JSONDecodeError:
        return []
    return [i["metadata"].get("annotations", {}).get(HASH_ANNOTATION, "") for i in items]


def apply_storage(s: Settings) -> bool:
    """Deploy the provisioner and the default StorageClass unless they are already current.
    Returns whether anything was applied."""
    from localimages.catalog import DEMO_HTTP, LOCAL_PATH, LOCAL_PATH_BINARY, build

    from devcluster.lifecycle import kubectl, log

    if not LOCAL_PATH_BINARY.exists():
        log("local-path-provisioner not built (hack/cluster/build.sh local-path): no StorageClass")
        return False
    _, image_id = build("local-path-provisioner")
    manifest, digest = local_path_manifest(s, LOCAL_PATH.tag, DEMO_HTTP.tag, image_id)
    if applied_hashes(s) == [digest, digest]:
        return False
    log(f"applying the local-path provisioner and StorageClass {STORAGE_CLASS}")
    s.local_path_dir.mkdir(parents=True, exist_ok=True)
    kubectl(s, "apply", "-f", "-", stdin=manifest)
    kubectl(s, "-n", NAMESPACE, "rollout", "status", f"deployment/{NAME}", "--timeout=300s")
    return True


def storage_status(s: Settings) -> str:
    """One line for `hack/cluster/status`: the default StorageClass and its provisioner."""
    from devcluster.lifecycle import kubectl

    ready = kubectl(
        s, "-n", NAMESPACE, "get", "deployment", NAME,
        "-o", "jsonpath={.status.readyReplicas}", check=False,
    ).strip()  # fmt: skip
    found = kubectl(s, "get", "storageclass", STORAGE_CLASS, "-o", "name", check=False).strip()
    if not found:
        return "default StorageClass: none"
    return f"default StorageClass: {STORAGE_CLASS} ({PROVISIONER}, {ready or 0}/1 ready)"
