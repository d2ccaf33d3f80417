"""I/O adapters: the Kubernetes API and the node daemons. Each raises its own errors."""
