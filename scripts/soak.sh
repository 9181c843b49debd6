#!/usr/bin/env bash
# Soak test (issue 12): the `stress` profile of locust.toml, headless, for a long run
# against the built-in demo target with its faults switched on, watching the load
# generator for leaks. Every sample (a minute by default) it reads the locust-rs
# process's RSS (/proc/PID/status VmRSS), open fds (/proc/PID/fd), threads
# (/proc/PID/status Threads) and tokio tasks (the "Runtime: N tasks alive" DEBUG line
# the session's ticker logs every 10 s: every live task of the runtime -- one per user,
# the ticker, the signal watcher, timers' tasks; not the sockets themselves), with the
# requests and failures so far from the stats CSV, and prints one table row.
#
#   scripts/soak.sh                   30 minutes (make soak)
#   scripts/soak.sh --minutes 3       shorter (make soak SOAK_MINUTES=3)
#   scripts/soak.sh --sample-seconds 10 --minutes 1   a quick look
#   scripts/soak.sh --judge FILE [--users N]   only apply the growth rule to a samples
#                                     file written by an earlier run (used by the tests)
#
# The demo target runs as its own process (`locust-rs --serve-demo 127.0.0.1:0`), so
# the figures are of the load generator alone. Its faults: 2 % of answers are 500s,
# 2 % are 600 ms slower, 1 % have their connection dropped mid-answer (SOAK_ERROR_RATE,
# SOAK_SLOW_RATE, SOAK_SLOW_MS, SOAK_DROP_RATE override them).
#
# Growth rule (the verdict): after a warm-up (the first 120 s, or the first third of a
# shorter run: users spawn, buffers and the stats table reach their working size), the
# first sample at or past the warm-up is the baseline and the last sample is compared
# with it. Growth is
#   RSS      more than 10 % AND more than 8 MiB above the baseline (both: 10 % alone is
#            noise on a small heap, 8 MiB alone is noise on a big one);
#   fds      more than 16 above (one socket per user stays open; a leak of one per
#            request or per dropped connection passes 16 within seconds);
#   threads  more than 8 above (tokio's blocking pool grows and shrinks by itself);
#   tasks    more than the run's users above (a task per request or per connection
#            that never ends would pass it within seconds).
# Fewer than two samples past the warm-up: no growth verdict (said so, not a failure).
#
# Exit codes: 0 no growth and the run ended as expected (0, or 3 when the stress
# profile's criteria fail, as they should with faults on); 1 growth, a crash (another
# exit code, a panic in the log, the process gone early or not ending); 2 bad usage or
# a harness failure (build, demo target not starting).
# Output in soak_out/: samples.tsv, table.txt, locust.log (the run's console and log),
# demo.log, soak_*.csv. All traffic goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${SOAK_MINUTES:-30}
SAMPLE=60
OUT=soak_out
BUILD=1
JUDGE=
USERS=
WARMUP=120
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --sample-seconds) SAMPLE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --judge) JUDGE=$2; shift 2 ;;
    --users) USERS=$2; shift 2 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "soak.sh: unknown argument '$1' (see --help)" >&2
      exit 2
      ;;
  esac
done
for n in "$MINUTES" "$SAMPLE" "${USERS:-1}"; do
  case "$n" in
    '' | *[!0-9]* | 0) echo "soak.sh: '$n' is not a positive whole number" >&2; exit 2 ;;
  esac
done

# judge FILE USERS: the growth rule on a samples file (header line, then
# second minute rss_kib fds threads tasks requests failures, tab-separated).
# Prints the verdict; returns 1 on growth.
judge() {
  awk -F'\t' -v users="$2" -v warmup_max="$WARMUP" '
    NR == 1 { next }
    { n++; sec[n] = $1; rss[n] = $3; fds[n] = $4; thr[n] = $5; tasks[n] = $6 }
    END {
      if (n == 0) { print "verdict: no samples"; exit 1 }
      warm = sec[n] / 3; if (warm > warmup_max) warm = warmup_max
      for (i = 1; i <= n; i++) if (sec[i] >= warm) { b = i; break }
      if (!b || b == n) {
        printf "verdict: no growth verdict (fewer than 2 samples past the %d s warm-up)\n", warm
        exit 0
      }
      grew = 0
      d = rss[n] - rss[b]
      printf "RSS      %.1f -> %.1f MiB (%+.1f MiB, %+.1f %%; limit: > 10 %% and > 8 MiB)\n", \
        rss[b] / 1024, rss[n] / 1024, d / 1024, 100 * d / rss[b]
      if (d > rss[b] * 0.10 && d > 8192) { print "  GROWTH: RSS"; grew = 1 }
      printf "fds      %d -> %d (%+d; limit: > 16)\n", fds[b], fds[n], fds[n] - fds[b]
      if (fds[n] - fds[b] > 16) { print "  GROWTH: fds"; grew = 1 }
      printf "threads  %d -> %d (%+d; limit: > 8)\n", thr[b], thr[n], thr[n] - thr[b]
      if (thr[n] - thr[b] > 8) { print "  GROWTH: threads"; grew = 1 }
      if (tasks[b] == "-" || tasks[n] == "-") {
        print "tasks    not measured (no \"Runtime: N tasks alive\" line)"; grew = 1
      } else {
        printf "tasks    %d -> %d (%+d; limit: > %d users)\n", tasks[b], tasks[n], tasks[n] - tasks[b], users
        if (tasks[n] - tasks[b] > users) { print "  GROWTH: tasks"; grew = 1 }
      }
      printf "verdict: %s (baseline at %d s, last sample at %d s)\n", \
        grew ? "GROWTH" : "no growth", sec[b], sec[n]
      exit grew
    }' "$1"
}

if [ -n "$JUDGE" ]; then
  judge "$JUDGE" "${USERS:-50}"
  exit $?
fi

if [ -n "${LOCUST_RS_BIN:-}" ]; then
  BIN=$LOCUST_RS_BIN
else
  BIN=${CARGO_TARGET_DIR:-target}/release/locust-rs
  if [ "$BUILD" = 1 ]; then
    cargo build --release --locked >&2 || { echo "soak.sh: the release build failed" >&2; exit 2; }
  fi
fi
[ -x "$BIN" ] || { echo "soak.sh: no binary at $BIN" >&2; exit 2; }
USERS=${USERS:-$(awk '/^\[profiles.stress\]/{p=1; next} /^\[/{p=0} p && /^users *=/{print $3}' locust.toml)}
USERS=${USERS:-50}

rm -rf "$OUT"
mkdir -p "$OUT"
DEMO_PID=
LOAD_PID=
cleanup() {
  # Only the two processes this script started, by their ids.
  for pid in $LOAD_PID $DEMO_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

"$BIN" --serve-demo 127.0.0.1:0 \
  --demo-error-rate "${SOAK_ERROR_RATE:-0.02}" \
  --demo-slow-rate "${SOAK_SLOW_RATE:-0.02}" --demo-slow-time "${SOAK_SLOW_MS:-600}" \
  --demo-drop-rate "${SOAK_DROP_RATE:-0.01}" >"$OUT/demo.log" 2>&1 &
DEMO_PID=$!
HOST=
for _ in $(seq 100); do
  HOST=$(sed -n 's/^demo target listening on //p' "$OUT/demo.log")
  [ -n "$HOST" ] && break
  kill -0 "$DEMO_PID" 2>/dev/null || break
  sleep 0.1
done
[ -n "$HOST" ] || { echo "soak.sh: the demo target did not start:" >&2; cat "$OUT/demo.log" >&2; exit 2; }

# The run lasts 15 s past the last sample, so that sample is of the steady run, not of
# the stop.
RUN_SECONDS=$((MINUTES * 60 + 15))
echo "soak: stress profile ($USERS users) against $HOST with faults on, $MINUTES min, a sample every $SAMPLE s" >&2
"$BIN" --profile stress -H "$HOST" -t "${RUN_SECONDS}s" --only-summary --loglevel DEBUG \
  --csv "$OUT/soak" >"$OUT/locust.log" 2>&1 &
LOAD_PID=$!
START=$(date +%s)

status_field() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$LOAD_PID/status" 2>/dev/null || true; }

printf 'second\tminute\trss_kib\tfds\tthreads\ttasks\trequests\tfailures\n' >"$OUT/samples.tsv"
printf '%6s %8s %6s %7s %6s %10s %9s\n' minute "RSS MiB" fds threads tasks requests failures | tee "$OUT/table.txt"
SAMPLES=$((MINUTES * 60 / SAMPLE))
ended_early=0
for i in $(seq "$SAMPLES"); do
  target=$((START + i * SAMPLE))
  while [ "$(date +%s)" -lt "$target" ]; do
    kill -0 "$LOAD_PID" 2>/dev/null || break
    sleep 1
  done
  if ! kill -0 "$LOAD_PID" 2>/dev/null; then
    ended_early=1
    break
  fi
  rss=$(status_field VmRSS)
  threads=$(status_field Threads)
  fds=$( (ls "/proc/$LOAD_PID/fd" 2>/dev/null || true) | wc -l)
  tasks=$(sed -n 's/.*Runtime: \([0-9]*\) tasks alive.*/\1/p' "$OUT/locust.log" | tail -n 1)
  read -r requests failures < <(awk -F, '$2 == "Aggregated" {r = $3; f = $4} END {print (r == "" ? 0 : r), (f == "" ? 0 : f)}' "$OUT/soak_stats.csv" 2>/dev/null || echo "0 0")
  second=$(($(date +%s) - START))
  [ -n "$rss" ] || { ended_early=1; break; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$second" "$(awk -v s="$second" 'BEGIN {printf "%.1f", s / 60}')" \
    "$rss" "$fds" "$threads" "${tasks:--}" "$requests" "$failures" >>"$OUT/samples.tsv"
  printf '%6s %8.1f %6s %7s %6s %10s %9s\n' "$(awk -v s="$second" 'BEGIN {printf "%.1f", s / 60}')" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$fds" "$threads" "${tasks:--}" "$requests" "$failures" |
    tee -a "$OUT/table.txt"
done

# The end: -t plus the profile's stop timeout, bounded at 120 s past the planned end.
deadline=$((START + RUN_SECONDS + 120))
while kill -0 "$LOAD_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 1
done
crashed=0
if kill -0 "$LOAD_PID" 2>/dev/null; then
  echo "soak: FAIL: locust-rs did not end within 120 s of the planned end" >&2
  crashed=1
  code=none
else
  code=0
  wait "$LOAD_PID" || code=$?
fi
LOAD_PID=
kill -TERM "$DEMO_PID" 2>/dev/null || true
wait "$DEMO_PID" 2>/dev/null || true
DEMO_PID=

echo | tee -a "$OUT/table.txt"
echo "locust-rs exit code: $code (0, or 3 for the stress criteria failing under faults, are expected)" |
  tee -a "$OUT/table.txt"
case "$code" in
  0 | 3) ;;
  *) crashed=1 ;;
esac
if [ "$ended_early" = 1 ]; then
  echo "soak: FAIL: locust-rs ended before the last sample" | tee -a "$OUT/table.txt" >&2
  crashed=1
fi
if grep -q "panicked" "$OUT/locust.log"; then
  echo "soak: FAIL: a panic in $OUT/locust.log" | tee -a "$OUT/table.txt" >&2
  crashed=1
fi
grep -E "^ *(Criterion|PASS|FAIL)|criteri" "$OUT/locust.log" | tail -n 8 | tee -a "$OUT/table.txt" || true
if [ -s "$OUT/soak_failures.csv" ]; then
  echo "failures by kind ($OUT/soak_failures.csv):" | tee -a "$OUT/table.txt"
  tail -n +2 "$OUT/soak_failures.csv" | sort -t, -k4 -nr | head -n 8 | tee -a "$OUT/table.txt"
fi
grew=0
judge "$OUT/samples.tsv" "$USERS" | tee -a "$OUT/table.txt" || grew=1
if [ "$crashed" = 1 ] || [ "$grew" = 1 ]; then
  echo "soak: FAIL (see $OUT/)" >&2
  exit 1
fi
echo "soak: PASS (see $OUT/)" >&2
