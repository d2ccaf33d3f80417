"""The chart's RBAC for the emergency stop: the dashboard may read and write the one flag in
the release namespace only, and admins get a ClusterRole to bind for the people who may pull it."""

from __future__ import annotations

from tests.unit.helm.conftest import RenderFn

FLAG = "faultline-killswitch"


def _flag_rules(rules: list[dict]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:  # type: ignore[type-arg]
    return sorted(
        (tuple(r.get("resourceNames") or ()), tuple(r["verbs"]))
        for r in rules
        if r["resources"] == ["configmaps"]
    )


def test_the_dashboard_reads_and_writes_only_the_flag_in_its_namespace(render: RenderFn) -> None:
    rendered = render()
    role = rendered.find("Role", "dashboard-emergency-stop")
    assert role["metadata"]["namespace"] == "faultline"
    assert _flag_rules(role["rules"]) == [((), ("create",)), ((FLAG,), ("get", "patch"))]
    binding = rendered.find("RoleBinding", "dashboard-emergency-stop")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"][0]["name"].endswith("dashboard")
    # No cluster-wide right on ConfigMaps for the dashboard.
    cluster_role = rendered.find("ClusterRole", "-dashboard")
    assert all("configmaps" not in r["resources"] for r in cluster_role["rules"])


def test_admins_get_a_role_to_bind_for_who_may_pull_the_stop(render: RenderFn) -> None:
    role = render().find("ClusterRole", "faultline-emergency-stop")
    assert role["metadata"]["name"] == "fl-faultline-emergency-stop"
    assert _flag_rules(role["rules"]) == [((), ("create",)), ((FLAG,), ("get", "patch"))]
    assert {"resources": ["events"], "verbs": ["list"], "apiGroups": [""]} in role["rules"]
    assert not render(values={"rbac": {"create": False}}).kinds() & {"ClusterRole", "Role"}
