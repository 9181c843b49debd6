#!/usr/bin/env bash
# Runs every test of locust-rs on a fresh machine: installs what the tests need
# (nginx from Debian for the load-balancer test, chromium for the HTML report test,
# the real Locust 2.47.0 in .venv-locust/ for tests/locust_interop_*.rs), checks
# formatting and lints, then runs the whole suite. Root is needed only to install
# missing packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# Headless Chromium renders the HTML report in tests/html_report.rs.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# chromedriver drives that Chromium over WebDriver in tests/web_ui_browser.rs (the web UI).
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing packages: ${need_apt[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "test.sh: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

./scripts/build-deps.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

# The interoperability tests run the real Locust side by side with locust-rs.
LOCUST_BIN="$(./scripts/locust-venv.sh)"
export LOCUST_BIN
cargo test --workspace --locked

# The benchmark harness (issue 3), a few seconds per benchmark so that it cannot rot;
# only where it can run: as root (it installs nginx, wrk, taskset) or with them present.
if [ "$(id -u)" -eq 0 ] || { command -v wrk && command -v taskset && { command -v nginx || [ -x /usr/sbin/nginx ]; }; } >/dev/null 2>&1; then make bench-smoke; else echo "test.sh: skipping make bench-smoke (needs root, or nginx, wrk and taskset)"; fi
