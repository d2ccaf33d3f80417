# The dev cluster's sandbox (pause) image: catatonit in pause mode. Equivalent to what
# hack/images builds without Docker. Build: docker build -f images/pause.Dockerfile -t faultline.local/pause:3.10-catatonit .
FROM debian:12-slim AS tools
RUN apt-get update && apt-get install -y --no-install-recommends catatonit && rm -rf /var/lib/apt/lists/*

FROM scratch
COPY --from=tools /usr/bin/catatonit /catatonit
ENTRYPOINT ["/catatonit", "-P"]
