# The one Faultline image: operator (`python -m backend.operator`), chaosd (`chaosd serve`) and
# the dashboard (`python -m backend.api`) all run from it; the Helm chart picks the command.
#
#   docker build -f images/faultline.Dockerfile -t faultline/faultline:0.1.0 .
#
# Tag it with the chart's appVersion (never `latest`): the chart pins image.tag to appVersion.

# --- build: compile the wheels that have C extensions (pyfuse3, NetfilterQueue) -----------------
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        gcc pkg-config libfuse3-dev libnetfilter-queue-dev libnfnetlink-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY backend ./backend
COPY chaosd ./chaosd
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- runtime -------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
# nftables/iproute2: network faults inside a pod's netns; fuse3 + libfuse3: IOChaos mounts;
# libnetfilter-queue1: the NFQUEUE delayer; procps: process lookups in health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        nftables iproute2 fuse3 libfuse3-3 libnetfilter-queue1 libnfnetlink0 procps \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels faultline \
    && rm -rf /wheels
# The operator and dashboard run as this user (the chart sets runAsUser 65532); chaosd runs as
# root with the capabilities the chart grants.
RUN groupadd --gid 65532 faultline \
    && useradd --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin faultline
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 65532:65532
CMD ["python", "-m", "backend.api"]
