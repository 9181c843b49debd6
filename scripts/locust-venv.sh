#!/usr/bin/env bash
# Creates (once) a Python virtual environment .venv-locust/ at the repository root
# with the real Locust the interoperability tests compare against
# (tests/locust_interop_*.rs), and prints the path of its `locust` executable on
# stdout. Everything else goes to stderr. Running it again is cheap: an existing
# environment with the right Locust version is reused as it is.
#
# On a fresh Debian machine `python3 -m venv` fails when python3-venv is missing;
# the script then installs it with apt-get (root only) and tries again.
set -euo pipefail
cd "$(dirname "$0")/.."

LOCUST_VERSION=2.47.0
VENV="$PWD/.venv-locust"
PY="$VENV/bin/python"
LOCUST="$VENV/bin/locust"

installed_version() {
  [ -x "$PY" ] || return 1
  "$PY" -c 'import importlib.metadata as m; print(m.version("locust"))' 2>/dev/null
}

if [ "$(installed_version || true)" = "$LOCUST_VERSION" ] && [ -x "$LOCUST" ]; then
  echo "$LOCUST"
  exit 0
fi

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "locust-venv.sh: missing $* (run as root, or install it)" >&2
    exit 1
  fi
  echo "locust-venv.sh: installing $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv

make_venv() {
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
}

if ! make_venv; then
  # Debian ships ensurepip separately: python3-venv pulls in python3.X-venv for
  # the default python3.
  echo "locust-venv.sh: 'python3 -m venv' failed (python3-venv missing?)" >&2
  apt_install python3-venv
  make_venv
fi

echo "locust-venv.sh: installing locust==$LOCUST_VERSION into $VENV" >&2
"$PY" -m pip install -q --disable-pip-version-check --no-input "locust==$LOCUST_VERSION" >&2

if [ "$(installed_version || true)" != "$LOCUST_VERSION" ] || [ ! -x "$LOCUST" ]; then
  echo "locust-venv.sh: locust $LOCUST_VERSION is not installed in $VENV" >&2
  exit 1
fi
echo "$LOCUST"
