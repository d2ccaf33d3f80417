"""chaosd: the per-node daemon that makes a target's kernel state match its desired faults."""

__version__ = "0.1.0"
