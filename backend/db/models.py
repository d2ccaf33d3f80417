"""SQLAlchemy 2 table models: the dashboard's durable record of experiments and the cluster.

Experiments, hypotheses, runs, observations and events are owned by the dashboard. Chaos objects
and schedules are a mirror of custom resources that a watcher keeps up to date; runs outlive both
(archived runs stay after their experiment's custom resource is deleted).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Faultline stores UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONValue = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONValue}


class Hypothesis(Base):
    __tablename__ = "hypotheses"

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), index=True)
    """Only experiments of this namespace may use it; RBAC on experiments there guards it."""
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tolerances: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue)
    """The Experiment resource's `spec.hypothesis.tolerances`, validated by the API models."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("namespace", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), index=True)
    name: Mapped[str] = mapped_column(String(253))
    description: Mapped[str] = mapped_column(Text, default="")
    hypothesis_id: Mapped[int | None] = mapped_column(
        ForeignKey("hypotheses.id", ondelete="SET NULL")
    )
    spec: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="idle", index=True)
    verdict: Mapped[str | None] = mapped_column(String(20), index=True)
    """Verdict of the latest finished run: Passed, Failed, Aborted or Error."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    hypothesis: Mapped[Hypothesis | None] = relationship(lazy="joined")


class Run(Base):
    __tablename__ = "runs"
    # Lists filter by namespace and page newest first; the index keeps that an index scan.
    __table_args__ = (Index("ix_runs_namespace_id", "namespace", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL, not CASCADE: archived runs must survive the deletion of their experiment.
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="SET NULL"), index=True
    )
    namespace: Mapped[str] = mapped_column(String(63))
    experiment_name: Mapped[str] = mapped_column(String(253))
    phase: Mapped[str] = mapped_column(String(20), default="Pending")
    verdict: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    archived_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Observation(Base):
    """One sample of one probe's KPIs; `ts` is Unix seconds so bulk inserts stay cheap."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_run_ts", "run_id", "ts"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    probe: Mapped[str] = mapped_column(String(253), default="")
    """The experiment probe that took the sample (a name from its hypothesis's probes)."""
    ts: Mapped[float] = mapped_column(Float)
    qps: Mapped[float] = mapped_column(Float)
    error_rate: Mapped[float | None] = mapped_column(Float)
    latency_p50_ms: Mapped[float | None] = mapped_column(Float)
    latency_p99_ms: Mapped[float | None] = mapped_column(Float)
    bucket_seconds: Mapped[int] = mapped_column(Integer, default=0)
    """0 for a raw sample; the bucket width after housekeeping merged raw samples."""


class ChaosObject(Base):
    __tablename__ = "chaos_objects"
    __table_args__ = (UniqueConstraint("kind", "namespace", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    namespace: Mapped[str] = mapped_column(String(63), index=True)
    name: Mapped[str] = mapped_column(String(253))
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    spec: Mapped[dict[str, Any]]
    status: Mapped[dict[str, Any]] = mapped_column(default=dict)
    phase: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("namespace", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(63), index=True)
    name: Mapped[str] = mapped_column(String(253))
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    schedule: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(40))
    spec: Mapped[dict[str, Any]]
    status: Mapped[dict[str, Any]] = mapped_column(default=dict)
    phase: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArchivedObject(Base):
    """The last state of a chaos object, experiment or schedule whose custom resource was
    deleted: kubectl users delete freely, dashboard users still see what ran."""

    __tablename__ = "archived_objects"
    __table_args__ = (Index("ix_archived_objects_namespace_id", "namespace", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(253))
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    spec: Mapped[dict[str, Any]]
    status: Mapped[dict[str, Any]] = mapped_column(default=dict)
    phase: Mapped[str] = mapped_column(String(40), default="")
    archived_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(
            "run_id IS NOT NULL OR chaos_object_id IS NOT NULL", name="event_has_subject"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    chaos_object_id: Mapped[int | None] = mapped_column(
        ForeignKey("chaos_objects.id", ondelete="CASCADE"), index=True
    )
    ts: Mapped[datetime] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text, default="")


class ApiToken(Base):
    """Local-mode bearer tokens; only a SHA-256 of each token is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
