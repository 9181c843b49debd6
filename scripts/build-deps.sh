#!/usr/bin/env bash
# What building locust-rs needs beyond Rust: a C++ compiler, because the `zmq` crate
# builds libzmq (the ZeroMQ of distributed mode) from source and links it in. Installs
# g++ from Debian when it is missing; root is needed only for that.
set -euo pipefail
if command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build-deps.sh: a C++ compiler is missing (apt-get install g++), run as root or install it" >&2
  exit 1
fi
echo "build-deps.sh: installing g++"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends g++ >/dev/null
