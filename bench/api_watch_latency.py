"""How long a chaos object takes to reach the dashboard, and what a cluster-mode request costs.

Against the real cluster (KUBECONFIG, or --kubeconfig): a throwaway namespace, a Watcher over a
temporary SQLite mirror, and N NetworkChaos objects created one at a time through the
KubernetesGateway (the API's write path). Prints the create call's latency and the time from
the create call returning until the object's row is in the mirror (polled every 5 ms), then the
latency of TokenReview + SubjectAccessReview for one ServiceAccount token. Nothing it creates
selects a pod; the namespace is always deleted.

    .venv/bin/python bench/api_watch_latency.py --objects 50
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.api.auth import Access
from backend.api.cluster import KubernetesGateway
from backend.api.errors import Forbidden
from backend.api.kube_auth import KubernetesAuthenticator
from backend.api.watcher import Watcher
from backend.clients.kube.client import Kube, connect
from backend.db.engine import make_engine, make_sessionmaker
from backend.db.errors import NotFound
from backend.db.migrate import upgrade_to_head
from backend.db.repositories import mirror
from backend.settings import Settings
from backend.spec.creator import Creator

BENCH = Creator(username="bench")


def summary(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"{label:<38} n={len(ms):<4} p50={statistics.median(ms):7.1f} ms  "
        f"p95={p95:7.1f} ms  max={ms[-1]:7.1f} ms"
    )


def spec(ns: str) -> dict[str, object]:
    selector = {"namespaces": [ns], "labelSelectors": {"app": "nothing-here"}}
    return {"action": "loss", "mode": "all", "selector": selector, "loss": {"loss": "1"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=30)
    parser.add_argument("--kubeconfig", type=Path, default=None)
    args = parser.parse_args()

    cluster = connect(args.kubeconfig)
    api = cluster.api
    core = client.CoreV1Api(api)
    ns = f"bench-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(data_dir=Path(tmp)))
        upgrade_to_head(engine)
        sessions = make_sessionmaker(engine)
        watcher = Watcher(cluster, sessions)
        watcher.start()
        try:
            while not watcher.synced.wait(0.1):
                pass
            gateway = KubernetesGateway(cluster)
            creates, arrivals = [], []
            for i in range(args.objects):
                started = time.perf_counter()
                gateway.create("NetworkChaos", ns, f"bench-{i}", spec(ns), creator=BENCH)
                returned = time.perf_counter()
                while True:
                    with sessions() as session:
                        try:
                            mirror.get_chaos_object(session, "NetworkChaos", ns, f"bench-{i}")
                            break
                        except NotFound:
                            pass
                    time.sleep(0.005)
                creates.append(returned - started)
                arrivals.append(time.perf_counter() - returned)
            summary("create through the gateway", creates)
            summary("create returned -> row in the mirror", arrivals)
            auth_latency(cluster, core, ns)
        finally:
            watcher.stop()
            engine.dispose()
            objects = client.CustomObjectsApi(api)
            for i in range(args.objects):
                # An operator of another session may have added its finalizer: drop it.
                with contextlib.suppress(client.exceptions.ApiException):
                    objects.patch_namespaced_custom_object(
                        "chaos.faultline.dev", "v1alpha1", ns, "networkchaos", f"bench-{i}",
                        {"metadata": {"finalizers": None}},
                        _content_type="application/merge-patch+json",
                    )  # fmt: skip
            core.delete_namespace(ns)


def auth_latency(cluster: Kube, core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_service_account(
        ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="bench"))
    )
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))
    token = core.create_namespaced_service_account_token("bench", ns, request).status.token
    reviews, checks = [], []
    for _ in range(30):
        auth = KubernetesAuthenticator(cluster, token_hint="")  # fresh: no cached TokenReview
        started = time.perf_counter()
        principal = auth.authenticate(token)
        reviews.append(time.perf_counter() - started)
        started = time.perf_counter()
        # The bench account has no Role: a denial costs the same review as an allow.
        with contextlib.suppress(Forbidden):
            auth.authorize(principal, Access("list", "networkchaos", ns))
        checks.append(time.perf_counter() - started)
    summary("TokenReview (uncached)", reviews)
    summary("SubjectAccessReview", checks)


if __name__ == "__main__":
    main()
