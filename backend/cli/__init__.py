"""The `faultline` command line (also installed as the kubectl plugin `kubectl-faultline`).

It exists so CI pipelines and terminal users get what `kubectl` cannot give them: offline
validation with the API server's own wording, one command that applies an experiment and follows
it to a verdict, tiered exit codes, JUnit reports, and a stop that always waits for recovery.
"""
