"""Probes measure a service's KPI (the steady state) while an experiment runs."""
