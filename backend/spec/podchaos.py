"""PodChaos: kill pods or containers, or make pods fail for a while."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from backend.spec.common import MAX_SECONDS, ContainerSelector, Duration
from backend.spec.rules import Rule

PodChaosAction = Literal["pod-kill", "pod-failure", "container-kill"]


class PodChaosSpec(ContainerSelector):
    action: PodChaosAction
    """pod-kill deletes the pod; pod-failure keeps its containers from running for `duration`;
    container-kill kills the processes of `containerNames`."""
    duration: Duration | None = None
    """How long the fault lasts; pod-kill and container-kill are one-shot and ignore it."""
    gracePeriod: Annotated[int, Field(ge=0, le=MAX_SECONDS)] = 0
    """Seconds before a killed pod is deleted; 0 deletes it at once. At most 604800 (168h)."""

    __rules__: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "self.action != 'container-kill' || (has(self.containerNames) "
            "&& size(self.containerNames) > 0)",
            "containerNames must name at least one container when action is container-kill",
            lambda s: s.action != "container-kill" or bool(s.containerNames),
            ".containerNames",
        ),
    )
