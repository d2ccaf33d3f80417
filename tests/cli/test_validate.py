"""`faultline validate` / `faultline run` on bad input, offline: exit code 4 naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import CORPUS, cli, cli_env, dead_kubeconfig

GOOD = """\
apiVersion: chaos.faultline.dev/v1alpha1
kind: NetworkChaos
metadata:
  name: cut
spec:
  action: partition
  mode: all
  selector:
    labelSelectors: {app: web}
  direction: both
  externalTargets: ["10.1.2.3"]
"""

# file -> what the message must say (field path and the problem)
EXPECTED = {
    "loss-over-100.yaml": "spec.loss.loss: Invalid value",
    "unknown-action.yaml": 'spec.action: Unsupported value: "partiton"',
    "fixed-mode-without-value.yaml": "spec.value: Invalid value",
    "human-duration.yaml": "spec.duration: Invalid value",
    "partition-without-target.yaml": "spec.target: Invalid value",
    "unknown-field.yaml": 'unknown field "spec.gracePeriods"',
    "negative-grace.yaml": "spec.gracePeriod: Invalid value: -1",
    "container-kill-without-names.yaml": "spec.containerNames: Invalid value",
    "io-relative-volume.yaml": "spec.volumePath: Invalid value",
    "schedule-bad-cron.yaml": "spec.schedule: Invalid value",
    "experiment-missing-fault-duration.yaml": "spec.timing.faultDuration: Required value",
    "experiment-tolerance-unknown-probe.yaml": "spec.hypothesis.tolerances: Invalid value",
    "string-for-integer.yaml": "spec.errno: Invalid value",
    "missing-spec.yaml": "spec: Required value",
    "cidr-prefix-out-of-range.yaml": "spec.externalTargets[0]: Invalid value",
    "device-with-rule-text.yaml": "spec.device: Invalid value",
    "duration-over-a-week.yaml": "spec.duration: Invalid value",
    "offline-only/schedule-minute-out-of-range.yaml": "spec.schedule: Invalid value",
    "offline-only/not-yaml.yaml": "not valid YAML (line 6",
    "offline-only/chaos-mesh-api-version.yaml": "apiVersion: Unsupported value",
}


def test_the_corpus_is_all_covered() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.yaml")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_validate_rejects_each_bad_manifest(name: str) -> None:
    result = cli("validate", str(CORPUS / name))
    assert result.returncode == 4, result.stderr
    assert EXPECTED[name] in result.stderr
    assert str(CORPUS / name) in result.stderr  # says which file


def test_validate_reports_every_problem_of_every_file(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = CORPUS / "io-relative-volume.yaml"
    result = cli("validate", str(good), str(bad))
    assert result.returncode == 4
    assert f"{good}: valid (1 object(s))" in result.stdout
    assert "spec.volumePath" in result.stderr and "spec.percent" in result.stderr


def test_validate_accepts_a_good_multi_document_file(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(GOOD + "---\n" + GOOD.replace("name: cut", "name: cut-2"))
    result = cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "valid (2 object(s))" in result.stdout


def test_run_rejects_a_bad_manifest_before_touching_the_cluster(tmp_path: Path) -> None:
    # The kubeconfig points nowhere: exit 4 (not 3) proves nothing was sent.
    env = cli_env(dead_kubeconfig(tmp_path))
    result = cli("run", str(CORPUS / "unknown-action.yaml"), "--wait", env=env)
    assert result.returncode == 4
    assert 'spec.action: Unsupported value: "partiton"' in result.stderr


def test_bad_options_are_invalid_input_not_aborted(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    result = cli("run", str(good), "--timeout", "ten minutes")
    assert result.returncode == 4
    assert "--timeout: invalid duration 'ten minutes'" in result.stderr
    result = cli("run", str(good), "--no-such-flag")
    assert result.returncode == 4
    assert "No such option: --no-such-flag" in result.stderr


def test_missing_file_is_invalid_input(tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path / "absent.yaml"))
    assert result.returncode == 4
    assert "absent.yaml: cannot read" in result.stderr


def test_unreachable_cluster_is_an_error(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    result = cli("run", str(good), "--wait", env=cli_env(dead_kubeconfig(tmp_path)))
    assert result.returncode == 3
    assert "cannot reach the cluster at https://127.0.0.1:1" in result.stderr


def test_run_refuses_a_schedule(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "apiVersion: chaos.faultline.dev/v1alpha1\nkind: Schedule\nmetadata: {name: nightly}\n"
        'spec: {schedule: "@every 30s", type: PodChaos, podChaos: {action: pod-kill, mode: one,'
        " selector: {labelSelectors: {app: web}}}}\n"
    )
    assert cli("validate", str(path)).returncode == 0  # valid, just not something to follow
    result = cli("run", str(path), "--wait", env=cli_env(dead_kubeconfig(tmp_path)))
    assert result.returncode == 4
    assert "kind: run follows one run to its outcome" in result.stderr
