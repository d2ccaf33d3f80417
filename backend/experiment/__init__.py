"""The experiment engine: runs one Experiment (baseline, inject, observe, recover, verdict)
against its probes and child chaos objects; the operator starts it from a kopf daemon."""
