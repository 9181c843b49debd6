#!/usr/bin/env bash
# Load-test modes of LOAD_TESTING.md:  ./load_test.sh basic|stress|cache|spike|all|interactive [locust-rs flags]
# Checks the system first (GET /gateway-health), runs the profile from locust.toml,
# writes the HTML report, JSON result and CSV files under load_test_reports/ and exits
# with the run's exit code (0 pass, 3 criteria failed, 4 system down; see README).
# HOST overrides the target (default http://localhost:8080); LOCUST_RS the binary;
# extra flags go to locust-rs (e.g. `./load_test.sh basic -t 10s`). interactive serves
# the web UI on WEB_PORT (default 8089) until Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")"

MODE="${1:-basic}"
shift || true
HOST="${HOST:-http://localhost:8080}"
BIN="${LOCUST_RS:-target/release/locust-rs}"
REPORTS="${REPORTS:-load_test_reports}"

case "$MODE" in
  basic|stress|cache|spike|all|interactive) ;;
  -h|--help|help)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *)
    echo "load_test.sh: unknown mode '$MODE' (expected basic, stress, cache, spike, all or interactive)" >&2
    exit 2 ;;
esac

if [ ! -x "$BIN" ]; then
  echo "load_test.sh: building locust-rs (cargo build --release)..." >&2
  cargo build --release --quiet || exit 2
fi

gateway_up() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 5 -o /dev/null "$HOST/gateway-health" 2>/dev/null
  else
    python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
      "$HOST/gateway-health" >/dev/null 2>&1
  fi
}
if ! gateway_up; then
  echo "load_test.sh: the system at $HOST is not running (GET /gateway-health failed); check 'docker-compose ps', start it with 'docker-compose up -d', see 'docker-compose logs'." >&2
  exit 4
fi

mkdir -p "$REPORTS"
stamp=$(date +%Y%m%d_%H%M%S)
prefix="$REPORTS/${MODE}_${stamp}"

if [ "$MODE" = interactive ]; then
  WEB_PORT="${WEB_PORT:-8089}"
  echo "load_test.sh: web UI at http://localhost:$WEB_PORT (127.0.0.1 only): set users and spawn rate, press Start; Ctrl-C ends it and writes $prefix.html and ${prefix}_*.csv" >&2
  # exec: Ctrl-C and SIGTERM reach locust-rs itself, which then writes every report.
  exec "$BIN" -H "$HOST" --web-port "$WEB_PORT" --csv "$prefix" --html "$prefix.html" --report-json "$prefix.json" "$@"
fi
"$BIN" --profile "$MODE" --headless -H "$HOST" --csv "$prefix" --html "$prefix.html" --report-json "$prefix.json" "$@"
code=$?
if [ -f "$prefix.html" ]; then
  echo "load_test.sh: $MODE finished with exit code $code; report: $prefix.html (JSON: $prefix.json, CSV: ${prefix}_*.csv)" >&2
else
  echo "load_test.sh: $MODE finished with exit code $code (no report was written)" >&2
fi
exit $code
