#!/usr/bin/env bash
# Installs everything Faultline's tests and demo need on a Debian 12 host: apt packages and a
# Python virtualenv at .venv with the project installed in editable mode. Idempotent and quick
# when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  nftables iproute2 iptables conntrack iputils-ping procps psmisc util-linux
  fuse3 libfuse3-dev pkg-config gcc libnetfilter-queue-dev libnfnetlink-dev
  containerd runc containernetworking-plugins etcd-server catatonit busybox-static debootstrap
  postgresql chromium chromium-driver
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.faultline-deps
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "==> pip install -e .[dev]"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" >"$stamp"
fi
