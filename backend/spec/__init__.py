"""Pydantic models of the Faultline CRDs: the one schema source.

The CRDs in crds/ are generated from these models (`make generate`), and the operator, the
dashboard API and the CLI parse objects with them, so all of them agree on every field. No I/O
happens here.
"""

from backend.spec.experiment import ExperimentSpec, ExperimentStatus
from backend.spec.iochaos import IOChaosSpec
from backend.spec.kinds import API_VERSION, GROUP, KINDS, VERSION, Kind
from backend.spec.networkchaos import NetworkChaosSpec
from backend.spec.podchaos import PodChaosSpec
from backend.spec.schedule import ScheduleSpec, ScheduleStatus
from backend.spec.status import ChaosStatus, Record
from backend.spec.validate import FieldError, validate_manifest

__all__ = [
    "API_VERSION",
    "GROUP",
    "KINDS",
    "VERSION",
    "ChaosStatus",
    "ExperimentSpec",
    "ExperimentStatus",
    "FieldError",
    "IOChaosSpec",
    "Kind",
    "NetworkChaosSpec",
    "PodChaosSpec",
    "Record",
    "ScheduleSpec",
    "ScheduleStatus",
    "validate_manifest",
]
