"""The chart's target limits reach the operator: protected namespaces (always with the release's
own), the platform team's exceptions, the allow list and opt-in; bad names are refused."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest

RenderFn = Callable[..., Any]


def _operator_env(render: RenderFn, values: dict[str, Any] | None = None) -> dict[str, str]:
    deployment = render(values=values).find("Deployment", "-operator")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def test_defaults_protect_the_system_namespaces_and_the_release_namespace(
    render: RenderFn,
) -> None:
    env = _operator_env(render)
    protected = env["FAULTLINE_PROTECTED_NAMESPACES"].split(",")
    assert protected == ["kube-system", "kube-public", "kube-node-lease", "faultline"]
    assert env["FAULTLINE_ALLOW_PROTECTED_NAMESPACES"] == ""
    assert env["FAULTLINE_TARGET_NAMESPACES"] == ""
    assert env["FAULTLINE_REQUIRE_NAMESPACE_OPT_IN"] == "false"


def test_exceptions_allow_list_and_opt_in_are_passed_on(render: RenderFn) -> None:
    env = _operator_env(render, {"targeting": {
        "allowProtected": ["faultline"], "allowedNamespaces": ["shop", "cart"],
        "requireNamespaceOptIn": True,
    }})  # fmt: skip
    assert env["FAULTLINE_ALLOW_PROTECTED_NAMESPACES"] == "faultline"
    assert env["FAULTLINE_TARGET_NAMESPACES"] == "shop,cart"
    assert env["FAULTLINE_REQUIRE_NAMESPACE_OPT_IN"] == "true"
    # The release namespace stays in the protected list; the operator subtracts the exception.
    assert env["FAULTLINE_PROTECTED_NAMESPACES"].endswith(",faultline")


@pytest.mark.parametrize(
    "values",
    [
        {"targeting": {"allowedNamespaces": ["Not_A_Namespace"]}},
        {"targeting": {"protectedNamespaces": "kube-system"}},
        {"targeting": {"allowProtect": ["faultline"]}},
    ],
)
def test_bad_targeting_values_are_refused_naming_the_field(
    render: RenderFn, values: dict[str, Any]
) -> None:
    with pytest.raises(subprocess.CalledProcessError) as e:
        render(values=values)
    assert "targeting" in str(e.value.stderr)
