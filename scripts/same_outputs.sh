#!/usr/bin/env bash
# Proves that a change left every output of a run the same: builds git revision REV
# (default: HEAD) in a temporary worktree, runs it and the working tree's binary on the
# same fixed, deterministic run against the built-in demo target (one user, 20
# iterations of a three-request task, two criteria), and compares what both wrote —
# the console tables, the four CSV files, --json, the versioned JSON result and the HTML
# report — after masking what depends on time (timestamps, durations, response times,
# rates, chart coordinates). Exit 0 when they are the same, 1 with a diff otherwise.
#
#   scripts/same_outputs.sh [REV]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
REV="${1:-HEAD}"
WORK="$(mktemp -d)"
trap 'git -C "$ROOT" worktree remove --force "$WORK/base" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

echo "same_outputs: building $REV and the working tree" >&2
git worktree add --quiet --detach "$WORK/base" "$REV"
(cd "$WORK/base" && CARGO_TARGET_DIR="$ROOT/target/same-outputs-base" cargo build --quiet --locked)
cargo build --quiet --locked
BASE_BIN="$ROOT/target/same-outputs-base/debug/locust-rs"
NEW_BIN="$ROOT/target/debug/locust-rs"

cat >"$WORK/fixed.toml" <<'EOF'
[users.Fixed]
wait_time = "constant(0)"

[[users.Fixed.tasks]]
name = "create_read_miss"
[[users.Fixed.tasks.requests]]
method = "POST"
path = "/users"
json = { name = "fixed", email = "fixed@example.com" }
success_status = [201]
[[users.Fixed.tasks.requests]]
path = "/health"
[[users.Fixed.tasks.requests]]
path = "/users/999999999"
name = "/users/[missing]"
EOF

run() { # bin dir
  mkdir -p "$2"
  # Both run from the same path, so that the command line in the reports is the same.
  cp "$1" "$WORK/locust-rs"
  (cd "$2" && "$WORK/locust-rs" --demo --headless -f "$WORK/fixed.toml" -u 1 -r 1 -i 20 \
      --criterion "error_rate < 50%" --criterion "p95 < 5000" \
      --csv out --json --html report.html --report-json result.json \
      >stdout.txt 2>stderr.txt) || echo "exit=$?" >>"$2/stderr.txt"
}
run "$BASE_BIN" "$WORK/base-run"
run "$NEW_BIN" "$WORK/new-run"

# Masks numbers that vary from run to run, keeps the words, names and counts that do not.
normalize() { # file
  case "$1" in
    *stderr.txt)
      # Log lines without their timestamp; stats tables with the name and request and
      # failure counts kept, timings and rates masked; percentile rows with the count kept.
      python3 - "$1" <<'PY'
import re, sys
percentiles = False
for line in open(sys.argv[1]).read().splitlines():
    line = re.sub(r"^\[[0-9-]+ [0-9:,]+\] [^/]+/", "[time] ", line)
    line = re.sub(r"127\.0\.0\.1:[0-9]+", "127.0.0.1:PORT", line)
    line = re.sub(r"Demo target listening at .*", "Demo target listening", line)
    line = re.sub(r"measured [0-9.]+ (ms|%)", r"measured N \1", line)
    if line.startswith("Response time percentiles"):
        percentiles = True
    elif not line.strip():
        percentiles = False
    if percentiles and re.search(r"[0-9]+\s*$", line):
        numbers = re.findall(r"[0-9]+", line[60:])
        line = line[:60].rstrip() + " ... " + (numbers[-1] if numbers else "")
    elif "|" in line and not line.startswith("-"):
        first, *rest = line.split("|")
        line = "|".join([first] + [" ".join(re.sub(r"[0-9]+(\.[0-9]+)?", "N", r).split()) for r in rest])
    print(line)
PY
      ;;
    *out_stats.csv|*out_failures.csv|*out_exceptions.csv)
      # Keep Type/Method, Name, counts and errors; mask timings.
      python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head = rows[0]
keep = [i for i, h in enumerate(head) if h in ("Type", "Method", "Name", "Request Count", "Failure Count", "Error", "Occurrences", "Count", "Message")]
for row in rows:
    print([row[i] for i in keep])
PY
      ;;
    *out_stats_history.csv) head -1 "$1" ;;
    *result.json)
      python3 - "$1" <<'PY'
import json, sys, re
def mask(v, key=""):
    if isinstance(v, dict):
        return {k: mask(x, k) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [mask(x, key) for x in v] if key not in ("history", "points") else ["history"]
    if isinstance(v, float):
        return "F"
    if isinstance(v, str):
        return re.sub(r"[0-9]+(\.[0-9]+)?", "N", v)
    if isinstance(v, int) and key not in ("num_requests", "num_failures", "requests", "failures", "occurrences", "exit_code", "users", "iterations", "count"):
        return "I"
    return v
print(json.dumps(mask(json.load(open(sys.argv[1]))), indent=1))
PY
      ;;
    *report.html)
      python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"<svg.*?</svg>", "<svg/>", text, flags=re.S)
text = re.sub(r"sha256-[A-Za-z0-9+/=]+", "sha256-H", text)
text = re.sub(r"[0-9]+(\.[0-9]+)?", "N", text)
print(text)
PY
      ;;
    *stdout.txt)
      python3 - "$1" <<'PY'
import json, sys
for entry in json.load(open(sys.argv[1])):
    print(entry["name"], entry["method"], entry["num_requests"], entry["num_failures"], sorted(entry))
PY
      ;;
  esac
}

status=0
for file in stdout.txt stderr.txt out_stats.csv out_failures.csv out_exceptions.csv \
            out_stats_history.csv result.json report.html; do
  if ! diff -u <(normalize "$WORK/base-run/$file") <(normalize "$WORK/new-run/$file") \
       --label "$REV/$file" --label "working-tree/$file"; then
    status=1
  fi
done
if [ "$status" -eq 0 ]; then
  echo "same_outputs: every output of the fixed run is the same as at $REV" >&2
fi
exit "$status"
