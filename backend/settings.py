"""Dashboard settings, read once from `FAULTLINE_*` environment variables.

Everything that touches I/O (the database, the scheduler, auth) takes a `Settings` object as an
argument instead of reading the environment itself, so tests and the CLI can build the app with
explicit values. A bad variable is reported by its environment name, never as a stack trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "FAULTLINE_"


class SettingsError(ValueError):
    """An environment variable has a value the dashboard cannot use."""


def default_data_dir() -> Path:
    """/var/lib/faultline for root (a system service), the XDG data dir for everybody else."""
    if os.geteuid() == 0:
        return Path("/var/lib/faultline")
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "faultline"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    """Holds the SQLite database when no database URL is given."""
    database_url: str | None = None
    """e.g. postgresql+psycopg://user:pass@host/db; default: SQLite file in data_dir."""
    mode: Literal["local", "cluster"] = "local"
    """local: admin token in the database, no cluster; cluster: Kubernetes TokenReview + RBAC."""
    retention_days: Annotated[int, Field(ge=1)] = 30
    """Archived runs and events older than this are deleted by housekeeping."""
    downsample_after_seconds: Annotated[int, Field(ge=60)] = 86400
    """Raw observations older than this are merged into buckets."""
    downsample_bucket_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    housekeeping_interval_seconds: Annotated[int, Field(ge=10)] = 3600
    housekeeping_enabled: bool = True
    log_json: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    token_hint: str = "kubectl -n faultline create token faultline-dashboard"
    """Shown in cluster-mode 401 answers: how a user obtains a token."""
    kubeconfig: Path | None = None
    """Cluster mode outside a pod: the kubeconfig to use (default: $KUBECONFIG, ~/.kube/config).
    Inside a pod the ServiceAccount's credentials are always used."""
    watch_cluster: bool = True
    """Cluster mode: mirror chaos objects, experiments and schedules from the cluster into the
    database (off only for a second replica that shares the database)."""

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'faultline.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from FAULTLINE_<FIELD> variables (e.g. FAULTLINE_DATA_DIR)."""
        env = os.environ if env is None else env
        values = {
            name: env[ENV_PREFIX + name.upper()]
            for name in cls.model_fields
            if ENV_PREFIX + name.upper() in env
        }
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            problems = "; ".join(
                f"{ENV_PREFIX}{str(err['loc'][0]).upper()}: {err['msg']} (got {err['input']!r})"
                for err in e.errors()
            )
            raise SettingsError(problems) from e
