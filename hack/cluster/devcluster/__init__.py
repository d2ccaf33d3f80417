"""Faultline's development cluster: a real single-node Kubernetes built from upstream sources.

There is no Docker and no image registry on the development machines, so this package wires
etcd, the Kubernetes control plane, containerd, the kubelet and kube-proxy together as plain
background processes, with certificates it makes itself and images it imports locally. The e2e
tests, the demo and developers all use it through `up()`, `down()` and `status()`.
"""
