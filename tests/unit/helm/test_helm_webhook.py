"""The chart's admission webhook: served over TLS with a CA the API server is given, failing
closed for creates and updates, never seeing a delete, trusting only this release's operator and
dashboard accounts, and scoped to the watched namespaces when the operator is."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from cryptography import x509

RenderFn = Callable[..., Any]


def _configs(rendered: Any) -> dict[str, dict[str, Any]]:
    kinds = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
    return {o["kind"]: o for o in rendered.objects if o["kind"] in kinds}


def _env(rendered: Any) -> dict[str, str]:
    pod = rendered.find("Deployment", "-webhook")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def test_every_kind_is_judged_on_create_and_update_and_no_delete_is_ever_seen(
    render: RenderFn,
) -> None:
    configs = _configs(render())
    assert set(configs) == {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
    ops = {}
    for kind, config in configs.items():
        (hook,) = config["webhooks"]
        assert hook["failurePolicy"] == "Fail" and hook["sideEffects"] == "None"
        (rule,) = hook["rules"]
        # "*" covers every Faultline kind, including kinds added later; no subresource.
        assert rule["apiGroups"] == ["chaos.faultline.dev"] and rule["resources"] == ["*"]
        ops[kind] = rule["operations"]
        assert "namespaceSelector" not in hook  # the operator watches every namespace
    assert ops == {
        "MutatingWebhookConfiguration": ["CREATE"],
        "ValidatingWebhookConfiguration": ["CREATE", "UPDATE"],
    }


def test_the_generated_ca_signs_the_serving_certificate_for_the_service(render: RenderFn) -> None:
    rendered = render()
    secret = rendered.find("Secret", "-webhook-tls")
    ca = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["ca.crt"]))
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "fl-faultline-webhook.faultline.svc" in sans.get_values_for_type(x509.DNSName)
    for config in _configs(rendered).values():
        (hook,) = config["webhooks"]
        assert hook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
        assert hook["clientConfig"]["service"]["name"] == "fl-faultline-webhook"
    # Two installs without a cluster to look up draw two different CAs; with one, helm reuses.
    assert render().find("Secret", "-webhook-tls")["data"]["ca.crt"] != secret["data"]["ca.crt"]


def test_cert_manager_issues_and_injects_instead(render: RenderFn) -> None:
    rendered = render(values={"webhook": {"tls": {"source": "certManager"}}})
    assert not [
        o for o in rendered.objects if o["kind"] == "Secret" and "webhook" in o["metadata"]["name"]
    ]
    cert = rendered.find("Certificate", "-webhook")
    assert "fl-faultline-webhook.faultline.svc" in cert["spec"]["dnsNames"]
    for config in _configs(rendered).values():
        assert config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
            "faultline/fl-faultline-webhook"
        )
        assert "caBundle" not in config["webhooks"][0]["clientConfig"]


def test_only_this_releases_operator_and_dashboard_are_trusted(render: RenderFn) -> None:
    env = _env(render())
    assert env["FAULTLINE_WEBHOOK_TRUSTED_USERS"].split(",") == [
        "system:serviceaccount:faultline:fl-faultline-operator",
        "system:serviceaccount:faultline:fl-faultline-dashboard",
    ]
    assert env["FAULTLINE_KILLSWITCH_NAMESPACE"] == "faultline"
    no_dashboard = _env(render(values={"dashboard": {"enabled": False}}))
    assert no_dashboard["FAULTLINE_WEBHOOK_TRUSTED_USERS"] == (
        "system:serviceaccount:faultline:fl-faultline-operator"
    )


def test_a_namespaced_release_judges_only_its_namespaces(render: RenderFn) -> None:
    rendered = render(values={"operator": {"watchNamespaces": ["shop", "cart"]}})
    for config in _configs(rendered).values():
        (expr,) = config["webhooks"][0]["namespaceSelector"]["matchExpressions"]
        assert expr == {
            "key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop", "cart"],
        }  # fmt: skip


def test_switched_off_leaves_no_webhook_behind(render: RenderFn) -> None:
    rendered = render(values={"webhook": {"enabled": False}})
    assert not _configs(rendered)
    assert not [o for o in rendered.objects if "webhook" in o["metadata"]["name"]]


def test_the_webhook_gets_the_operators_target_limits(render: RenderFn) -> None:
    values = {"targeting": {"allowProtected": ["faultline"], "allowedNamespaces": ["shop"]}}
    env = _env(render(values=values))
    operator = render(values=values).find("Deployment", "-operator")
    (container,) = operator["spec"]["template"]["spec"]["containers"]
    op_env = {e["name"]: e.get("value", "") for e in container["env"]}
    names = [
        "FAULTLINE_PROTECTED_NAMESPACES", "FAULTLINE_ALLOW_PROTECTED_NAMESPACES",
        "FAULTLINE_TARGET_NAMESPACES",
    ]  # fmt: skip
    assert (
        {n: env[n] for n in names}
        == {n: op_env[n] for n in names}
        == {
            "FAULTLINE_PROTECTED_NAMESPACES": "kube-system,kube-public,kube-node-lease,faultline",
            "FAULTLINE_ALLOW_PROTECTED_NAMESPACES": "faultline",
            "FAULTLINE_TARGET_NAMESPACES": "shop",
        }
    )
