"""Target limits: protected namespaces, the allow list, and the fields that name namespaces."""

from __future__ import annotations

from backend.domain.limits import TargetLimits, Touched, selector_namespaces, touched_by_selector
from backend.spec.common import PodSelectorSpec


def test_an_empty_selector_touches_only_the_objects_own_namespace() -> None:
    sel = PodSelectorSpec.model_validate({"labelSelectors": {"app": "web"}})
    assert selector_namespaces(sel, "shop") == ["shop"]
    assert touched_by_selector(sel, "shop", "spec.selector") == [Touched("spec.selector", "shop")]


def test_namespaces_and_pod_keys_are_named_by_their_field() -> None:
    sel = PodSelectorSpec.model_validate({"namespaces": ["a", "kube-system"]})
    assert touched_by_selector(sel, "own", "spec.selector") == [
        Touched("spec.selector.namespaces[0]", "a"),
        Touched("spec.selector.namespaces[1]", "kube-system"),
    ]
    pods = PodSelectorSpec.model_validate({"pods": {"b": ["x"], "a": ["y"]}})
    assert touched_by_selector(pods, "own", "spec.target.selector") == [
        Touched("spec.target.selector.pods[a]", "a"),
        Touched("spec.target.selector.pods[b]", "b"),
    ]


def test_protected_namespaces_are_refused_with_field_and_namespace() -> None:
    limits = TargetLimits.build()
    why = limits.refusal(Touched("spec.selector.namespaces[0]", "kube-system"))
    assert why is not None
    assert "spec.selector.namespaces[0]" in why and "'kube-system'" in why and "protected" in why
    assert limits.refusal(Touched("spec.selector", "shop")) is None


def test_allow_protected_lifts_exactly_the_listed_namespaces() -> None:
    limits = TargetLimits.build(
        protected=["kube-system", "kube-public", "faultline"], allow_protected=["faultline"]
    )
    assert limits.refusal(Touched("f", "faultline")) is None
    assert limits.refusal(Touched("f", "kube-system")) is not None
    assert limits.refusal(Touched("f", "kube-public")) is not None


def test_an_allow_list_refuses_every_other_namespace() -> None:
    limits = TargetLimits.build(allowed=["shop", "cart"])
    assert limits.refusals([Touched("a", "shop"), Touched("b", "cart")]) == []
    (why,) = limits.refusals([Touched("a", "shop"), Touched("spec.selector.pods[bank]", "bank")])
    assert "spec.selector.pods[bank]" in why and "'bank'" in why and "allowedNamespaces" in why


def test_protection_holds_even_inside_the_allow_list() -> None:
    limits = TargetLimits.build(allowed=["kube-system", "shop"])
    assert limits.refusal(Touched("f", "kube-system")) is not None
