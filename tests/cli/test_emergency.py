"""`faultline stop`: the operator's confirmation it waits for, its usage errors, and the flag it
writes (who, when, why) on a real cluster with no operator to confirm (exit 3, said plainly).

With an operator, timed from kernel state: tests/e2e/test_operator_safety.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend.cli.emergency import ENGAGED_EVENT, LIFTED_EVENT, banner, operator_event
from backend.spec.emergency import EmergencyStop, engage_data
from tests.cli.helpers import cli, cli_env
from tests.e2e.kube_users import service_account_kubeconfig

AT = datetime(2026, 12, 5, 8, 0, 0, 700000, tzinfo=UTC)


def _event(reason: str, uid: str) -> dict[str, object]:
    return {"reason": reason, "metadata": {"uid": uid}, "message": f"{reason} {uid}"}


def test_the_confirmation_is_a_new_event_of_the_operator() -> None:
    earlier = _event(ENGAGED_EVENT, "a")
    lifted = _event(LIFTED_EVENT, "b")
    seen = {"a", "b"}
    assert operator_event([earlier, lifted], ENGAGED_EVENT, seen) is None
    now = _event(ENGAGED_EVENT, "c")
    assert operator_event([earlier, lifted, now], ENGAGED_EVENT, seen) == now
    assert operator_event([earlier, lifted, now], LIFTED_EVENT, seen) is None
    assert operator_event([earlier, lifted], LIFTED_EVENT, {"a"}) == lifted
    assert operator_event([{"reason": ENGAGED_EVENT}], ENGAGED_EVENT, set()) is None


def test_the_banner_says_who_when_why_and_how_to_lift() -> None:
    data = engage_data("alice", "checkout [is] down", AT)
    state = EmergencyStop.from_data({k: v for k, v in data.items() if v is not None})
    text = banner(state)
    assert text.startswith("EMERGENCY STOP ENGAGED (since 2026-12-05T08:00:00Z by alice")
    assert "checkout [is] down" in text and "faultline stop --lift" in text
    assert banner(EmergencyStop.from_data({"enabled": "true"})).startswith(
        "EMERGENCY STOP ENGAGED: no fault"
    )


@pytest.mark.parametrize(
    "args", [["stop"], ["stop", "--all", "--lift"], ["stop", "--lift", "--reason", "x"]]
)
def test_stop_wants_exactly_one_of_all_and_lift(args: list[str]) -> None:
    result = cli(*args)
    assert result.returncode == 4, result.stderr
    assert "--all" in result.stderr


def _flag(cluster, ns: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    raw = cluster.kubectl("get", "configmap", "-n", ns, "faultline-killswitch", "-o", "json")
    return dict(json.loads(raw)["data"])


@pytest.mark.cluster
def test_without_an_operator_the_flag_is_written_and_the_exit_code_says_unconfirmed(
    cluster,  # type: ignore[no-untyped-def]
    namespace: str,
) -> None:
    env = cli_env(cluster.kubeconfig, FAULTLINE_NAMESPACE=namespace)
    engaged = cli("stop", "--all", "--reason", "drill", "--timeout", "1s", env=env)
    assert engaged.returncode == 3, engaged.stderr
    assert "the operator did not confirm within 1s" in engaged.stderr
    flag = _flag(cluster, namespace)
    assert (flag["enabled"], flag["reason"]) == ("true", "drill")
    assert flag["engagedBy"] == cluster.kubectl(
        "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"
    )
    assert datetime.fromisoformat(flag["engagedAt"].replace("Z", "+00:00"))

    listed = cli("get", "-n", namespace, env=env)
    assert listed.returncode == 0 and "EMERGENCY STOP ENGAGED" in listed.stdout
    again = cli("stop", "--all", env=env)
    assert again.returncode == 0 and "already engaged" in again.stdout

    lifted = cli("stop", "--lift", "--timeout", "1s", env=env)
    assert lifted.returncode == 3, lifted.stderr
    flag = _flag(cluster, namespace)
    assert flag["enabled"] == "false" and flag["liftedBy"] == flag["engagedBy"]
    assert flag["reason"] == "drill"  # the record of the engagement stays
    assert "EMERGENCY STOP" not in cli("get", "-n", namespace, env=env).stdout


@pytest.mark.cluster
def test_a_user_who_may_not_read_events_still_engages_and_is_told_it_is_unconfirmed(
    cluster,  # type: ignore[no-untyped-def]
    namespace: str,
    tmp_path: Path,
) -> None:
    cluster.kubectl("-n", namespace, "create", "serviceaccount", "flagonly")
    cluster.kubectl(
        "-n", namespace, "create", "role", "flagonly", "--verb=get,patch,create",
        "--resource=configmaps",
    )  # fmt: skip
    cluster.kubectl(
        "-n", namespace, "create", "rolebinding", "flagonly", "--role=flagonly",
        f"--serviceaccount={namespace}:flagonly",
    )  # fmt: skip
    kubeconfig = service_account_kubeconfig(cluster, namespace, "flagonly", tmp_path / "kc")
    env = cli_env(kubeconfig, FAULTLINE_NAMESPACE=namespace)
    engaged = cli("stop", "--all", "--reason", "no events for me", env=env)
    assert engaged.returncode == 3
    assert "the flag is written, but its confirmation is unreadable" in engaged.stderr
    assert "403" in engaged.stderr
    flag = _flag(cluster, namespace)
    assert flag["enabled"] == "true"
    assert flag["engagedBy"] == f"system:serviceaccount:{namespace}:flagonly"
