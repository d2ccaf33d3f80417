# The demo service: a static HTTP server that names the pod answering (hack/images/demo-http),
# plus busybox so the same image serves as an in-cluster client. Equivalent to hack/images' build.
# Build from the repo root:
#   docker build -f images/demo-http.Dockerfile -t faultline.local/demo-http:0.1.0 .
FROM golang:1.24-bookworm AS build
WORKDIR /src
COPY hack/images/demo-http/ ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /demo-http .

FROM debian:12-slim AS tools
RUN apt-get update && apt-get install -y --no-install-recommends busybox-static \
    && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /rootfs/bin /rootfs/etc /rootfs/tmp && chmod 1777 /rootfs/tmp \
    && cp /bin/busybox /rootfs/bin/busybox \
    && for a in sh nslookup sleep cat ls ps echo true ip ping nc hostname env seq date grep uptime kill; do \
         ln -s busybox /rootfs/bin/$a; done \
    && printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n' > /rootfs/etc/passwd \
    && printf 'root:x:0:\nnogroup:x:65534:\n' > /rootfs/etc/group

FROM scratch
COPY --from=tools /rootfs/ /
COPY --from=build /demo-http /demo-http
ENV PATH=/bin:/usr/bin:/usr/local/bin
EXPOSE 8080
ENTRYPOINT ["/demo-http"]
