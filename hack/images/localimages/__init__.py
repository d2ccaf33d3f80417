"""Container images for the dev cluster, built and imported without Docker or a registry.

Nothing can be pulled on the development machines, so the few images the cluster needs are
assembled from a root filesystem folder into a docker-archive and imported into containerd.
"""
