"""The Faultline operator: kopf handlers that turn chaos objects into per-node fault sets."""
