"""Workloads e2e tests share: a demo-http Service to put load on."""

from __future__ import annotations

import json

import httpx

IMAGE = "faultline.local/demo-http:0.1.0"


def _apply(cluster, ns: str, doc: dict) -> None:  # type: ignore[no-untyped-def]
    cluster.kubectl("apply", "-n", ns, "-f", "-", stdin=json.dumps(doc))


def _get(cluster, ns: str, kind: str, name: str = "") -> dict:  # type: ignore[no-untyped-def]
    args = ["get", "-n", ns, kind] + ([name] if name else [])
    return dict(json.loads(cluster.kubectl(*args, "-o", "json")))


def web_service(cluster, ns: str, replicas: int = 3) -> str:  # type: ignore[no-untyped-def]
    """`replicas` of demo-http behind a ClusterIP Service; returns the Service's URL."""
    _apply(
        cluster,
        ns,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "terminationGracePeriodSeconds": 1,
                        "containers": [
                            {
                                "name": "main",
                                "image": IMAGE,
                                "imagePullPolicy": "Never",
                                "env": [
                                    {
                                        "name": "POD_NAME",
                                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                                    }
                                ],
                            }
                        ],
                    },
                },
            },
        },
    )
    _apply(
        cluster,
        ns,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    cluster.kubectl("rollout", "status", "-n", ns, "deploy/web", "--timeout=180s")
    ip = _get(cluster, ns, "service", "web")["spec"]["clusterIP"]
    url = f"http://{ip}/"
    cluster.wait_for("service answers", lambda: answers(url), timeout=60)
    return url


def answers(url: str) -> bool:
    try:
        return '"pod"' in httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return False
