"""`helm install` of the real chart on the real cluster, end to end (issue 9, acceptance):
install -> every pod Ready, a NetworkChaos and a PodChaos applied with kubectl, `helm upgrade`
with changed values, `helm uninstall` with a fault in force; chaosd with capabilities only and
privileged. The release fixture and the checks live in tests/e2e/helm_release.py.
"""

from __future__ import annotations

import pytest

from tests.e2e.helm_release import (
    Release,
    image_fixture,  # noqa: F401 (fixture)
    install,
    partition_works,
    pod_kill_recreates,
    release_fixture,  # noqa: F401 (fixture)
    uninstall_leaves_nothing,
    upgrade_changes_values,
)
from tests.support.pods import demo_pod, nft_tables

# The first run on a fresh clone builds the image (minutes): a hang guard, not a speed limit.
pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(1500)]


def test_capabilities_install_chaos_upgrade_uninstall(release: Release) -> None:
    """Default (non-privileged, capabilities only) chaosd: the full life cycle."""
    install(release, privileged=False)
    release.apply(demo_pod("web", "web"))
    release.apply(demo_pod("client", "client"))
    ip, pid = partition_works(release, "cut-web")
    release.cluster.kubectl("delete", "-n", release.workloads, "networkchaos", "cut-web")
    release.cluster.wait_for("web reachable again", lambda: release.serves(ip), 60)
    assert "faultline" not in nft_tables(pid)

    pod_kill_recreates(release)
    upgrade_changes_values(release)

    # After the upgrade the new operator and chaosd still inject; uninstall with it in force.
    ip, pid = partition_works(release, "cut-web-again")
    uninstall_leaves_nothing(release, ip, pid)


def test_privileged_chaosd_partitions_and_uninstall_recovers(release: Release) -> None:
    install(release, privileged=True)
    release.apply(demo_pod("web", "web"))
    release.apply(demo_pod("client", "client"))
    ip, pid = partition_works(release, "cut-web")
    uninstall_leaves_nothing(release, ip, pid)
