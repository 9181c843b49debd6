#!/usr/bin/env bash
# Side-by-side benchmark of locust-rs (issue 3), on this machine, in one run:
#   1. throughput against nginx (2-byte static body): wrk, locust-rs, Locust FastHttpUser
#      and HttpUser, each pinned to core 0, nginx pinned to core 1;
#   2. memory per idle user (RSS at 100 and at 10,000 users, one keep-alive each);
#   3. ramp: time to start 10,000 users at -r 10000;
#   4. bounded memory: RSS growth of a steady full-speed run;
#   5. accuracy: p50 against the demo target's fixed 20 ms, next to wrk's p50;
#   6. distributed: a master and local workers against nginx next to one process, and a
#      master fed by hundreds of fake workers (its CPU per merged report;
#      scripts/bench_distributed.sh);
# then the targets of issue 3, each PASS/FAIL with the measured value.
#
#   scripts/bench.sh            full run (~6 min); exits 1 when a target is missed
#   scripts/bench.sh --smoke    every benchmark for a few seconds; proves the harness
#   scripts/bench.sh --no-locust   skip the Python Locust rows
#
# Exit codes: 0 done (full: every target met); 1 a target missed (full mode only);
# 2 the harness broke (a tool missing, a process that did not start or failed, an output
# that could not be parsed) -- never a silent wrong figure.
# Installs nginx-light, wrk and util-linux (taskset) with apt-get when missing (root).
# Output: the report on stdout and in bench_out/report.txt, key=value figures in
# bench_out/results.txt, every tool's raw output in bench_out/raw/.
# Environment: LOCUST_RS_BIN=path benchmarks that binary instead of building
# target/release/locust-rs. All traffic goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=full
WITH_LOCUST=1
for arg in "$@"; do
  case "$arg" in
    --smoke) MODE=smoke ;;
    --no-locust) WITH_LOCUST=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "bench.sh: unknown argument '$arg' (expected --smoke, --no-locust or --help)" >&2
      exit 2
      ;;
  esac
done

if [ "$MODE" = full ]; then
  DUR=20          # throughput and accuracy runs, seconds
  BOUND_T=130     # bounded-memory run length
  BOUND_S1=30     # ... RSS samples, seconds after "All users spawned"
  BOUND_S2=120
  FAKE_WORKERS=300  # distributed: fake workers feeding one master, for FAKE_SECONDS
  FAKE_SECONDS=30
else
  DUR=3
  BOUND_T=8
  BOUND_S1=3
  BOUND_S2=7
  FAKE_WORKERS=20
  FAKE_SECONDS=6
fi
DIST_WORKERS=2      # distributed: local workers beside one master
USERS=32            # throughput: users = wrk connections
SMALL=100           # memory: the two user counts
BIG=10000
ACC_USERS=200       # accuracy
SERVICE_MS=20       # demo target service time
NOFILE_WANT=65536
SERVER_BUDGET=3600  # upper bound on the life of nginx and the demo target

OUT="$ROOT/bench_out"
RAW="$OUT/raw"
REPORT="$OUT/report.txt"
RESULTS="$OUT/results.txt"
SCEN="$ROOT/benches/scenarios"

# ---------------------------------------------------------------- helpers

TMP=""
BG_TPIDS=()      # pids of the `timeout` wrappers of background processes
TARGET_PIDS=()   # nginx master and worker, for the target's CPU time
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
TOKEN="locust-rs-bench-$$-$RANDOM$RANDOM"   # answers /bench-token: proves the port is our nginx

die() {
  echo "bench.sh: error: $*" >&2
  exit 2
}

note() { say "note: $*"; }

say() {
  printf '%s\n' "$*"
  [ -d "$OUT" ] && printf '%s\n' "$*" >>"$REPORT"
  return 0
}

sayf() {
  local line
  # shellcheck disable=SC2059 # the format is the caller's
  line=$(printf "$@")
  say "$line"
}

result() { printf '%s=%s\n' "$1" "$2" >>"$RESULTS"; }

is_num() { [[ $1 =~ ^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }

need_num() { # label value source
  is_num "$2" || die "could not parse $1 from $3 (got '${2:-<empty>}')"
}

calc() { # printf-format awk-expression (parenthesised: a bare `>` would redirect)
  awk "BEGIN { printf \"$1\", ($2) }"
}

cmp() { # awk boolean expression -> exit status
  awk "BEGIN { exit !($1) }"
}

now_ms() { date +%s%3N; }

sleep_until() { # epoch ms
  sleep "$(calc '%.3f' "($1 - $(now_ms)) > 0 ? ($1 - $(now_ms)) / 1000 : 0")"
}

children_of() {
  local p=$1
  if [ -r "/proc/$p/task/$p/children" ]; then
    cat "/proc/$p/task/$p/children" 2>/dev/null || true
  else
    pgrep -P "$p" 2>/dev/null | tr '\n' ' ' || true
  fi
}

stop_tpid() { # TERM a timeout wrapper (it forwards TERM to its child), then KILL
  local tpid=$1 kids i
  kids=$(children_of "$tpid")
  kill -TERM "$tpid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$tpid" 2>/dev/null; then
    for i in $kids; do kill -KILL "$i" 2>/dev/null || true; done
    kill -KILL "$tpid" 2>/dev/null || true
  fi
  wait "$tpid" 2>/dev/null || true
}

# A command that fails where no check expected it (set -e) must not look like
# "a target was missed" (exit 1): remember where it happened, exit 2.
set -E
LAST_ERR=""
TARGETS_MISSED=0
trap 'LAST_ERR="line $LINENO: $BASH_COMMAND (exit $?)"' ERR

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$? t
  trap - EXIT INT TERM ERR
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ] &&
    [ "$TARGETS_MISSED" -eq 0 ]; then
    echo "bench.sh: error: unexpected failure at ${LAST_ERR:-an unknown line}; the figures are incomplete" >&2
    rc=2
  fi
  for t in "${BG_TPIDS[@]}"; do stop_tpid "$t"; done
  [ -n "$TMP" ] && rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench.sh: interrupted" >&2; exit 130' INT
trap 'echo "bench.sh: terminated" >&2; exit 143' TERM

bg_start() { # timeout_s out err cmd... ; sets BG_PID to the timeout wrapper's pid
  local secs=$1 out=$2 err=$3
  shift 3
  timeout "$secs" "$@" >"$out" 2>"$err" &
  BG_PID=$!
  BG_TPIDS+=("$BG_PID")
}

bg_forget() { # drop a finished wrapper from the cleanup list
  local t keep=()
  for t in "${BG_TPIDS[@]}"; do [ "$t" = "$1" ] || keep+=("$t"); done
  BG_TPIDS=("${keep[@]}")
}

real_pid() { # the process timeout runs (after taskset's exec), within 5 s
  local tpid=$1 kid comm i
  for i in $(seq 1 100); do
    kid=$(children_of "$tpid")
    kid=${kid%% *}
    if [ -n "$kid" ] && comm=$(cat "/proc/$kid/comm" 2>/dev/null); then
      case "$comm" in timeout | taskset) ;; *) echo "$kid"; return 0 ;; esac
    fi
    kill -0 "$tpid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

rss_kb() { # pid [field] -> VmRSS (or another /proc/PID/status field) in kB
  local v f=${2:-VmRSS}
  v=$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null) || true
  need_num "$f of pid $1" "$v" "/proc/$1/status"
  echo "$v"
}

wait_for_line() { # file regex seconds tpid -> 0 when the line appears
  local file=$1 re=$2 secs=$3 tpid=$4 end
  end=$(($(now_ms) + secs * 1000))
  while [ "$(now_ms)" -lt "$end" ]; do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    kill -0 "$tpid" 2>/dev/null || { grep -Eq -- "$re" "$file" 2>/dev/null; return; }
    sleep 0.05
  done
  return 1
}

established_to() { # established client connections to 127.0.0.1:port
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p="$hex" 'FNR > 1 && $4 == "01" { n2 = split($3, a, ":"); if (a[n2] == p) n++ }
    END { print n + 0 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

log_ts_ms() { # a Locust log line -> its timestamp in ms since the epoch
  local s
  [[ $1 =~ ^\[([0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}),([0-9]{3})\] ]] || return 1
  s=$(date -d "${BASH_REMATCH[1]}" +%s) || return 1
  echo $((s * 1000 + 10#${BASH_REMATCH[2]}))
}

csv_field() { # csv name-column-value header -> the field of the last row with that Name
  awk -F, -v name="$2" -v col="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) { if ($i == col) c = i; if ($i == "Name") n = i }; next }
    c && n && $n == name { v = $c }
    END { if (v == "") exit 1; print v }' "$1" 2>/dev/null || true
}

steady_rate() { # history.csv users -> "rate window_s" over the full-load rows after 1 s
  # Rows are written once a second; the first second (ramp, connection set-up) is
  # left out, and only the first row of each timestamp is used (a final write at exit
  # may share the timestamp of the last periodic row).
  awk -F, -v u="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "Timestamp") ct = i; if ($i == "User Count") cu = i
              if ($i == "Name") cn = i; if ($i == "Total Request Count") cc = i }; next }
    !(ct && cu && cn && cc) { exit 1 }
    $cn == "Aggregated" {
      if (t0 == "") t0 = $ct
      if ($cu == u && $ct >= t0 + 1 && !($ct in seen)) {
        seen[$ct] = 1; if (ts1 == "") { ts1 = $ct; c1 = $cc }; ts2 = $ct; c2 = $cc } }
    END { if (ts1 == "" || ts2 - ts1 < 1) exit 1; printf "%.1f %d\n", (c2 - c1) / (ts2 - ts1), ts2 - ts1 }
  ' "$1" 2>/dev/null || true
}

show_tail() { # file -> its last lines, indented, on stderr
  [ -s "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/    | /' >&2
  return 0
}

pids_ticks() { # pids... -> their user+sys CPU clock ticks, summed
  local p t=0 f
  for p in "$@"; do
    f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${f% *} + ${f#* }))
  done
  echo "$t"
}

machine_busy_pct() { # share of all cores busy (any process) over one second
  local a b
  a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  sleep 1
  b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]
    printf "%.0f", (busy + idle > 0 ? busy * 100 / (busy + idle) : 0) }'
}

children_cpu() { # `times` output file -> user+sys seconds of reaped children
  awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] }
    printf "%.3f", t }' "$1"
}

timed_run() { # name secs out err cmd...  (bounded; interruptible; CPU time recorded)
  # Sets RUN_RC, RUN_WALL (s), RUN_CPU (user+sys seconds of the tool). The tool runs
  # in the background so that Ctrl-C reaches the trap at once, not when it ends.
  local name=$1 secs=$2 out=$3 err=$4 tf=$RAW/$1.times t0 tpid c0 c1 k0 k1
  shift 4
  RUN_RC=0
  times >"$tf"
  c0=$(children_cpu "$tf")
  k0=$(pids_ticks "${TARGET_PIDS[@]}")
  t0=$(now_ms)
  timeout "$secs" "$@" >"$out" 2>"$err" &
  tpid=$!
  BG_TPIDS+=("$tpid")
  wait "$tpid" || RUN_RC=$?
  bg_forget "$tpid"
  RUN_WALL=$(calc '%.3f' "($(now_ms) - $t0) / 1000")
  k1=$(pids_ticks "${TARGET_PIDS[@]}")
  times >"$tf"
  c1=$(children_cpu "$tf")
  need_num "the CPU time of $name" "$c1" "$tf"
  need_num "the CPU time of $name" "$c0" "$tf"
  RUN_CPU=$(calc '%.2f' "$c1 - $c0")
  RUN_TARGET_CPU=$(calc '%.2f' "($k1 - $k0) / $CLK_TCK")
  printf 'wall %s s, cpu %s s, target cpu %s s\n' "$RUN_WALL" "$RUN_CPU" "$RUN_TARGET_CPU" >"$tf"
  if [ "$RUN_RC" -eq 124 ]; then
    show_tail "$err"
    die "$name did not finish within ${secs}s (killed by timeout); see $err"
  fi
}

http_get() { # port path -> the whole HTTP/1.0 response, or nothing
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3 || exit 0
    timeout 2 cat <&3
  ) 2>/dev/null || true
}

http_status() { # port path -> HTTP status code of GET, or nothing
  http_get "$1" "$2" | awk 'NR == 1 { print $2 }'
}

# ---------------------------------------------------------------- set-up

ensure_tools() {
  local missing=()
  NGINX=$(command -v nginx 2>/dev/null || true)
  [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
  [ -n "$NGINX" ] || missing+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      die "missing packages: ${missing[*]} (needed: nginx, wrk, taskset); run as root so that" \
        "bench.sh installs them, or: sudo apt-get install ${missing[*]}"
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing packages: ${missing[*]}, and no apt-get to install them"
    echo "bench.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
      die "apt-get install ${missing[*]} failed"
    NGINX=$(command -v nginx 2>/dev/null || true)
    [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
  fi
  [ -n "$NGINX" ] || die "nginx is still missing after installing nginx-light"
  command -v wrk >/dev/null 2>&1 || die "wrk is still missing after installing it"
  command -v taskset >/dev/null 2>&1 || die "taskset is still missing after installing util-linux"
  local t
  for t in timeout awk date grep sed; do
    command -v "$t" >/dev/null 2>&1 || die "'$t' is missing (coreutils/awk/grep/sed)"
  done
  [ -r /proc/net/tcp ] || die "/proc/net/tcp is not readable (needed to count connections)"
  [ "$(nproc)" -ge 2 ] || die "needs 2 cores (generator on core 0, target on core 1); nproc says $(nproc)"
  taskset -c 1 true 2>/dev/null || die "taskset -c 1 failed: core 1 is not available to this process"
}

ensure_binary() {
  if [ -n "${LOCUST_RS_BIN:-}" ]; then
    BIN=$LOCUST_RS_BIN
  else
    command -v cargo >/dev/null 2>&1 || die "cargo is missing (needed to build target/release/locust-rs)"
    echo "bench.sh: cargo build --release" >&2
    cargo build --release --locked --quiet || die "cargo build --release failed"
    BIN="$ROOT/target/release/locust-rs"
  fi
  [ -x "$BIN" ] || die "no locust-rs binary at $BIN"
  "$BIN" --version >/dev/null 2>&1 || die "$BIN --version failed"
}

raise_nofile() {
  ulimit -n "$NOFILE_WANT" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  NOFILE=$(ulimit -n)
  [ "$NOFILE" = unlimited ] && NOFILE=$NOFILE_WANT
  [ "$NOFILE" -ge $((BIG + 500)) ] ||
    die "the open-file limit is $NOFILE (hard limit $(ulimit -Hn)); $BIG users need at least" \
      "$((BIG + 500)): raise it (ulimit -n, /etc/security/limits.conf) or run as root"
  local lo hi
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
  [ $((hi - lo)) -ge $((BIG + 1000)) ] ||
    die "the ephemeral port range $lo-$hi is too small for $BIG connections"
  EPHEMERAL_LO=$lo
}

listening_ports() {
  local h
  awk 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); print a[n] }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    while read -r h; do echo $((16#$h)); done
}

start_nginx() {
  local dir="$TMP/nginx" conns=$((NOFILE - 100)) port busy lo hi st=""
  [ "$conns" -gt 20000 ] && conns=20000
  mkdir -p "$dir/www" "$dir/tmp"
  printf 'ok' >"$dir/www/ok.txt"
  # nginx started as root serves files as `nobody`: the body must be readable.
  chmod 755 "$TMP" "$dir" "$dir/www"
  chmod 644 "$dir/www/ok.txt"
  lo=$((EPHEMERAL_LO > 11025 ? EPHEMERAL_LO - 10000 : 1025))
  hi=$((EPHEMERAL_LO - 1))
  [ "$hi" -gt "$lo" ] || die "no free port: no port range below the ephemeral range ($EPHEMERAL_LO)"
  for _ in 1 2 3 4 5 6 7 8; do
    busy=" $(listening_ports | tr '\n' ' ') "
    port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
    [[ $busy == *" $port "* ]] && continue
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $NOFILE;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $conns; }
http {
  access_log off;
  default_type text/plain;
  sendfile on;
  keepalive_requests 100000000;
  keepalive_timeout 3600s;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$port backlog=16384;
    root $dir/www;
    location / { try_files /ok.txt =404; }
    location = /bench-token { return 200 "$TOKEN"; }
  }
}
EOF
    "$NGINX" -t -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" >"$RAW/nginx-t.log" 2>&1 || {
      show_tail "$RAW/nginx-t.log"
      die "nginx rejected its config ($dir/nginx.conf)"
    }
    : >"$dir/error.log"
    bg_start "$SERVER_BUDGET" "$RAW/nginx.out" "$RAW/nginx.err" \
      taskset -c 1 "$NGINX" -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
    NGINX_TPID=$BG_PID
    for _ in $(seq 1 50); do
      # Our nginx, not another server that took the port meanwhile: it knows the token.
      if http_get "$port" /bench-token | grep -q "$TOKEN"; then
        st=$(http_status "$port" /)
        break
      fi
      kill -0 "$NGINX_TPID" 2>/dev/null || break
      sleep 0.1
    done
    if [ "$st" = 200 ]; then
      local master
      master=$(real_pid "$NGINX_TPID") || die "nginx is answering but its process was not found"
      # shellcheck disable=SC2207 # pids are words
      TARGET_PIDS=("$master" $(children_of "$master"))
      [ ${#TARGET_PIDS[@]} -ge 2 ] || die "nginx has no worker process (pid $master)"
      NGINX_PORT=$port
      NGINX_URL="http://127.0.0.1:$port"
      return 0
    fi
    stop_tpid "$NGINX_TPID"
    bg_forget "$NGINX_TPID"
    if grep -q 'Address already in use' "$dir/error.log" "$RAW/nginx.err" 2>/dev/null; then
      continue
    fi
    cat "$dir/error.log" >>"$RAW/nginx.err" 2>/dev/null || true
    show_tail "$RAW/nginx.err"
    die "nginx did not start on 127.0.0.1:$port (GET / answered '${st:-nothing}'); see $RAW/nginx.err"
  done
  die "no free port: 8 random ports in $lo-$hi were taken"
}

start_demo() {
  local url=""
  bg_start "$SERVER_BUDGET" "$RAW/demo.out" "$RAW/demo.err" \
    taskset -c 1 "$BIN" --serve-demo 127.0.0.1:0 --demo-instance app1 --demo-service-time "$SERVICE_MS"
  DEMO_TPID=$BG_PID
  for _ in $(seq 1 100); do
    url=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$RAW/demo.out" 2>/dev/null | head -n 1 || true)
    [ -n "$url" ] && break
    kill -0 "$DEMO_TPID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    show_tail "$RAW/demo.err"
    die "the demo target did not start (no 'demo target listening on' line); see $RAW/demo.err"
  fi
  DEMO_URL=$url
  [ "$(http_status "${url##*:}" /health)" = 200 ] || die "the demo target at $url does not answer GET /health with 200"
}

find_locust() {
  LOCUST=""
  if [ "$WITH_LOCUST" -eq 0 ]; then
    LOCUST_NOTE="Locust rows skipped (--no-locust)"
    return 0
  fi
  if [ ! -f "$ROOT/scripts/locust-venv.sh" ]; then
    LOCUST_NOTE="Locust rows skipped: scripts/locust-venv.sh is missing"
    return 0
  fi
  local path rc=0
  path=$(timeout 900 bash "$ROOT/scripts/locust-venv.sh" 2>"$RAW/locust-venv.err") || rc=$?
  path=$(printf '%s\n' "$path" | tail -n 1)
  if [ "$rc" -ne 0 ] || [ -z "$path" ] || [ ! -x "$path" ]; then
    LOCUST_NOTE="Locust rows skipped: scripts/locust-venv.sh failed (exit $rc): $(tail -n 1 "$RAW/locust-venv.err" 2>/dev/null)"
    return 0
  fi
  LOCUST=$path
  LOCUST_VERSION=$("$LOCUST" --version 2>&1 | head -n 1 | awk '{ print $1, $2 }' || true)
  cat >"$TMP/locustfile.py" <<'EOF'
# Written by scripts/bench.sh: the Locust equivalents of benches/scenarios/*.toml.
from locust import FastHttpUser, HttpUser, constant, task


class MaxRpsFastUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self):
        self.client.get("/")


class MaxRpsHttpUser(HttpUser):
    wait_time = constant(0)

    @task
    def root(self):
        self.client.get("/")


class IdleHttpUser(HttpUser):
    wait_time = constant(600)

    def on_start(self):
        self.client.get("/")

    @task
    def root(self):
        self.client.get("/")
EOF
}

# ---------------------------------------------------------------- benchmarks

# Throughput rows: name rate cpu_seconds wall_seconds
TP_ROWS=()

bench_wrk_throughput() {
  local out="$RAW/wrk_throughput.txt" rps
  timed_run wrk_throughput $((DUR + 30)) "$out" "$RAW/wrk_throughput.err" \
    taskset -c 0 wrk -t1 -c"$USERS" -d"${DUR}s" "$NGINX_URL/"
  [ "$RUN_RC" -eq 0 ] || { show_tail "$RAW/wrk_throughput.err"; die "wrk failed (exit $RUN_RC); see $out"; }
  rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
  need_num "wrk Requests/sec" "$rps" "$out"
  grep -q 'Non-2xx' "$out" && die "wrk got non-2xx answers from nginx; see $out"
  grep -q 'Socket errors' "$out" && note "wrk reported socket errors: $(grep 'Socket errors' "$out")"
  WRK_RPS=$rps
  TP_ROWS+=("wrk -t1 -c$USERS|$rps|$RUN_CPU|$RUN_WALL|$RUN_TARGET_CPU")
  result throughput.wrk.rps "$rps"
}

# A headless run's figures from its CSV files: sets RATE, RATE_WINDOW, TOTAL, FAILS.
read_run_csv() { # label prefix users
  local label=$1 prefix=$2 users=$3 sr
  TOTAL=$(csv_field "${prefix}_stats.csv" Aggregated "Request Count")
  FAILS=$(csv_field "${prefix}_stats.csv" Aggregated "Failure Count")
  need_num "$label request count" "$TOTAL" "${prefix}_stats.csv"
  need_num "$label failure count" "$FAILS" "${prefix}_stats.csv"
  sr=$(steady_rate "${prefix}_stats_history.csv" "$users")
  if [ -n "$sr" ]; then
    RATE=${sr% *}
    RATE_WINDOW="${sr#* }s steady"
  else
    # Too short a history: the whole run, ramp included.
    RATE=$(calc '%.1f' "$TOTAL / $DUR")
    RATE_WINDOW="${DUR}s incl. ramp"
  fi
  need_num "$label requests/s" "$RATE" "${prefix}_stats_history.csv"
}

bench_locust_rs_throughput() {
  local p="$RAW/lrs_throughput"
  timed_run lrs_throughput $((DUR + 60)) "$p.out" "$p.err" \
    taskset -c 0 "$BIN" --headless -f "$SCEN/max_rps.toml" -H "$NGINX_URL" \
    -u "$USERS" -r 1000 -t "${DUR}s" --csv "$p" --only-summary
  [ "$RUN_RC" -eq 0 ] || { show_tail "$p.err"; die "locust-rs throughput run failed (exit $RUN_RC); see $p.err"; }
  read_run_csv locust-rs "$p" "$USERS"
  [ "$FAILS" -eq 0 ] || die "locust-rs throughput run had $FAILS failed requests; see ${p}_failures.csv"
  LRS_RPS=$RATE
  LRS_TOTAL=$TOTAL
  TP_ROWS+=("locust-rs (max_rps.toml, -u $USERS)|$RATE|$RUN_CPU|$RUN_WALL|$RUN_TARGET_CPU")
  result throughput.locust_rs.rps "$RATE"
  result throughput.locust_rs.rps_window "$RATE_WINDOW"
  result throughput.locust_rs.total_requests "$TOTAL"
}

bench_locust_throughput() { # user class
  local cls=$1 p="$RAW/locust_$1"
  timed_run "locust_$cls" $((DUR + 90)) "$p.out" "$p.err" \
    taskset -c 0 "$LOCUST" -f "$TMP/locustfile.py" --headless -H "$NGINX_URL" \
    -u "$USERS" -r "$USERS" -t "${DUR}s" --csv "$p" --only-summary "$cls"
  [ "$RUN_RC" -eq 0 ] || { show_tail "$p.err"; die "Locust $cls run failed (exit $RUN_RC); see $p.err"; }
  read_run_csv "Locust $cls" "$p" "$USERS"
  [ "$FAILS" -eq 0 ] || die "Locust $cls had $FAILS failed requests; see ${p}_failures.csv"
  TP_ROWS+=("Locust $cls (-u $USERS)|$RATE|$RUN_CPU|$RUN_WALL|$RUN_TARGET_CPU")
  result "throughput.locust_$cls.rps" "$RATE"
}

# One idle run: sets MEM_RSS (kB), MEM_CONNS, MEM_LOG (stderr file), MEM_CONNECTED_MS
# (ms from the process start until every user held its connection, or empty).
idle_run() { # tool(lrs|locust) users
  local tool=$1 users=$2 p="$RAW/idle_$1_$2" tpid pid start t conns deadline settle
  if [ "$tool" = lrs ]; then
    bg_start 300 "$p.out" "$p.err" taskset -c 0 "$BIN" --headless -f "$SCEN/idle_users.toml" \
      -H "$NGINX_URL" -u "$users" -r "$BIG" -t 240s --csv "$p" --only-summary
    settle=20
  else
    bg_start 400 "$p.out" "$p.err" taskset -c 0 "$LOCUST" -f "$TMP/locustfile.py" --headless \
      -H "$NGINX_URL" -u "$users" -r "$BIG" -t 300s --csv "$p" --only-summary IdleHttpUser
    settle=90
  fi
  tpid=$BG_PID
  pid=$(real_pid "$tpid") || { show_tail "$p.err"; die "the $tool run with $users users did not start; see $p.err"; }
  start=$(now_ms)
  wait_for_line "$p.err" 'All users spawned' 120 "$tpid" || {
    show_tail "$p.err"
    die "the $tool run with $users users never logged 'All users spawned'; see $p.err"
  }
  # At least 2 s after the ramp, and until every user holds its connection (bounded).
  deadline=$(($(now_ms) + settle * 1000))
  MEM_CONNECTED_MS=""
  t=$(now_ms)
  while :; do
    conns=$(established_to "$NGINX_PORT")
    if [ -z "$MEM_CONNECTED_MS" ] && [ "$conns" -ge "$users" ]; then
      MEM_CONNECTED_MS=$(($(now_ms) - start))
    fi
    [ "$(now_ms)" -ge $((t + 2000)) ] && [ "$conns" -ge "$users" ] && break
    [ "$(now_ms)" -ge "$deadline" ] && break
    kill -0 "$tpid" 2>/dev/null || { show_tail "$p.err"; die "the $tool run with $users users exited early; see $p.err"; }
    sleep 0.2
  done
  MEM_RSS=$(rss_kb "$pid")
  MEM_CONNS=$(established_to "$NGINX_PORT")
  MEM_LOG="$p.err"
  stop_tpid "$tpid"
  bg_forget "$tpid"
  local fails key=locust_rs
  [ "$tool" = locust ] && key=locust_HttpUser
  fails=$(csv_field "${p}_stats.csv" Aggregated "Failure Count")
  if ! is_num "$fails"; then
    note "the $tool run with $users users wrote no final stats (${p}_stats.csv)"
  elif [ "$fails" != 0 ]; then
    note "the $tool run with $users users had $fails failed requests; see ${p}_failures.csv"
  fi
  result "memory.$key.users_$users.rss_kb" "$MEM_RSS"
  result "memory.$key.users_$users.connections" "$MEM_CONNS"
}

ramp_ms() { # log -> ms from "Ramping to $BIG users" to "All users spawned"
  local ramp_line spawned_line t_ramp t_spawned
  ramp_line=$(grep -m 1 "Ramping to $BIG users" "$1" || true)
  spawned_line=$(grep -m 1 'All users spawned' "$1" || true)
  t_ramp=$(log_ts_ms "$ramp_line") || die "no parsable 'Ramping to $BIG users' line in $1"
  t_spawned=$(log_ts_ms "$spawned_line") || die "no parsable 'All users spawned' line in $1"
  [ "$t_spawned" -ge "$t_ramp" ] || die "'All users spawned' is logged before 'Ramping to' in $1"
  echo $((t_spawned - t_ramp))
}

bench_memory_and_ramp() {
  local small big
  LOCUST_RAMP_MS=""
  idle_run lrs "$SMALL"
  small=$MEM_RSS
  SMALL_CONNS=$MEM_CONNS
  idle_run lrs "$BIG"
  big=$MEM_RSS
  BIG_CONNS=$MEM_CONNS
  LRS_RSS_SMALL=$small
  LRS_RSS_BIG=$big
  LRS_KB_PER_USER=$(calc '%.2f' "($big - $small) / ($BIG - $SMALL)")
  result memory.locust_rs.kb_per_user "$LRS_KB_PER_USER"
  [ "$BIG_CONNS" -ge $((BIG * 98 / 100)) ] ||
    note "only $BIG_CONNS of $BIG locust-rs users held a connection when RSS was sampled"

  # Ramp, from the 10,000-user run's log.
  RAMP_MS=$(ramp_ms "$MEM_LOG")
  RAMP_RATE=$(calc '%.0f' "$BIG / (($RAMP_MS > 0 ? $RAMP_MS : 1) / 1000)")
  RAMP_CONNECTED_MS=${MEM_CONNECTED_MS:-}
  result ramp.locust_rs.users "$BIG"
  result ramp.locust_rs.requested_rate "$BIG"
  result ramp.locust_rs.spawn_ms "$RAMP_MS"
  result ramp.locust_rs.achieved_rate "$RAMP_RATE"
  result ramp.locust_rs.all_connected_ms "${RAMP_CONNECTED_MS:-none}"

  LOCUST_KB_PER_USER=""
  if [ -n "$LOCUST" ] && [ "$MODE" = full ]; then
    idle_run locust "$SMALL"
    LOCUST_RSS_SMALL=$MEM_RSS
    idle_run locust "$BIG"
    LOCUST_RSS_BIG=$MEM_RSS
    LOCUST_BIG_CONNS=$MEM_CONNS
    LOCUST_RAMP_MS=$(ramp_ms "$MEM_LOG")
    LOCUST_CONNECTED_MS=${MEM_CONNECTED_MS:-}
    result ramp.locust_HttpUser.spawn_ms "$LOCUST_RAMP_MS"
    LOCUST_KB_PER_USER=$(calc '%.2f' "($LOCUST_RSS_BIG - $LOCUST_RSS_SMALL) / ($BIG - $SMALL)")
    result memory.locust_HttpUser.kb_per_user "$LOCUST_KB_PER_USER"
  fi
}

bench_bounded() {
  local p="$RAW/lrs_bounded" tpid pid t0 r1 r2 rc=0
  bg_start $((BOUND_T + 60)) "$p.out" "$p.err" taskset -c 0 "$BIN" --headless -f "$SCEN/max_rps.toml" \
    -H "$NGINX_URL" -u "$USERS" -r 1000 -t "${BOUND_T}s" --csv "$p" --only-summary
  tpid=$BG_PID
  pid=$(real_pid "$tpid") || { show_tail "$p.err"; die "the bounded-memory run did not start; see $p.err"; }
  wait_for_line "$p.err" 'All users spawned' 30 "$tpid" || {
    show_tail "$p.err"
    die "the bounded-memory run never logged 'All users spawned'; see $p.err"
  }
  t0=$(now_ms)
  sleep_until $((t0 + BOUND_S1 * 1000))
  kill -0 "$tpid" 2>/dev/null || die "the bounded-memory run exited before ${BOUND_S1}s; see $p.err"
  r1=$(rss_kb "$pid")
  BOUND_A1=$(rss_kb "$pid" RssAnon)
  sleep_until $((t0 + BOUND_S2 * 1000))
  kill -0 "$tpid" 2>/dev/null || die "the bounded-memory run exited before ${BOUND_S2}s; see $p.err"
  r2=$(rss_kb "$pid")
  BOUND_A2=$(rss_kb "$pid" RssAnon)
  wait "$tpid" || rc=$?
  bg_forget "$tpid"
  [ "$rc" -ne 124 ] || die "the bounded-memory run did not stop after -t ${BOUND_T}s; see $p.err"
  [ "$rc" -eq 0 ] || { show_tail "$p.err"; die "the bounded-memory run failed (exit $rc); see $p.err"; }
  BOUND_R1=$r1
  BOUND_R2=$r2
  BOUND_GROWTH=$(calc '%.2f' "($r2 - $r1) * 100 / $r1")
  read_run_csv "bounded-memory run" "$p" "$USERS"
  BOUND_RPS=$RATE
  BOUND_TOTAL=$TOTAL
  result bounded.rss_kb_at_${BOUND_S1}s "$r1"
  result bounded.rss_kb_at_${BOUND_S2}s "$r2"
  result bounded.growth_pct "$BOUND_GROWTH"
  result bounded.rss_anon_kb_at_${BOUND_S1}s "$BOUND_A1"
  result bounded.rss_anon_kb_at_${BOUND_S2}s "$BOUND_A2"
  result bounded.rps "$RATE"
  result bounded.total_requests "$TOTAL"
}

wrk_ms() { # "22.68ms" | "950.00us" | "1.20s" -> ms
  local v=$1
  case "$v" in
    *us) calc '%.3f' "${v%us} / 1000" ;;
    *ms) calc '%.3f' "${v%ms}" ;;
    *s) calc '%.3f' "${v%s} * 1000" ;;
    *) echo "" ;;
  esac
}

bench_accuracy() {
  local p="$RAW/lrs_accuracy" out="$RAW/wrk_accuracy.txt" raw
  timed_run lrs_accuracy $((DUR + 60)) "$p.out" "$p.err" \
    taskset -c 0 "$BIN" --headless -f "$SCEN/accuracy.toml" -H "$DEMO_URL" \
    -u "$ACC_USERS" -r 1000 -t "${DUR}s" --csv "$p" --only-summary
  [ "$RUN_RC" -eq 0 ] || { show_tail "$p.err"; die "locust-rs accuracy run failed (exit $RUN_RC); see $p.err"; }
  ACC_P50=$(csv_field "${p}_stats.csv" Aggregated "50%")
  ACC_MEDIAN=$(csv_field "${p}_stats.csv" Aggregated "Median Response Time")
  ACC_COUNT=$(csv_field "${p}_stats.csv" Aggregated "Request Count")
  need_num "locust-rs p50 (50% column)" "$ACC_P50" "${p}_stats.csv"
  need_num "locust-rs Median Response Time" "$ACC_MEDIAN" "${p}_stats.csv"
  need_num "locust-rs request count" "$ACC_COUNT" "${p}_stats.csv"
  [ "$ACC_COUNT" -gt 0 ] || die "the locust-rs accuracy run sent no request; see $p.err"

  timed_run wrk_accuracy $((DUR + 30)) "$out" "$RAW/wrk_accuracy.err" \
    taskset -c 0 wrk -t1 -c"$ACC_USERS" -d"${DUR}s" --latency "$DEMO_URL/health"
  [ "$RUN_RC" -eq 0 ] || { show_tail "$RAW/wrk_accuracy.err"; die "wrk --latency failed (exit $RUN_RC); see $out"; }
  grep -q 'Non-2xx' "$out" && die "wrk got non-2xx answers from the demo target; see $out"
  raw=$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "50%" { print $2; exit }' "$out")
  WRK_P50=$(wrk_ms "$raw")
  need_num "wrk 50% latency" "$WRK_P50" "$out"
  WRK_ACC_RPS=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
  need_num "wrk Requests/sec" "$WRK_ACC_RPS" "$out"
  result accuracy.locust_rs.p50_ms "$ACC_P50"
  result accuracy.locust_rs.median_response_time_ms "$ACC_MEDIAN"
  result accuracy.locust_rs.requests "$ACC_COUNT"
  result accuracy.wrk.p50_ms "$WRK_P50"
  result accuracy.wrk.rps "$WRK_ACC_RPS"
}

# shellcheck source=scripts/bench_distributed.sh
. "$ROOT/scripts/bench_distributed.sh"

# ---------------------------------------------------------------- main

T_START=$(now_ms)
ensure_tools
ensure_binary
raise_nofile
mkdir -p "$OUT"
rm -rf "$RAW"
mkdir -p "$RAW"
: >"$REPORT"
: >"$RESULTS"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/locust-rs-bench.XXXXXX")

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
say "locust-rs benchmark ($MODE mode), $(date '+%Y-%m-%d %H:%M:%S %Z')"
say "machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}, kernel $(uname -r), $(awk '/MemTotal/ { printf "%.1f GB RAM", $2 / 1048576 }' /proc/meminfo)"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=$(machine_busy_pct)
say "load average at start: $LOAD; CPU busy before the first run: $BUSY% of all cores"
cmp "$BUSY > 10" && note "other processes are using the CPU; every figure below is skewed by them"
say "tools: $("$BIN" --version 2>&1 | head -n 1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $("$NGINX" -v 2>&1 | head -n 1 | sed 's/.*: //'), open-file limit $NOFILE"
result mode "$MODE"
result date "$(date -Is)"
result machine.nproc "$(nproc)"
result machine.cpu "${CPU_MODEL:-unknown}"
result machine.kernel "$(uname -r)"
result machine.loadavg_start "$LOAD"
result machine.busy_pct_start "$BUSY"

find_locust
[ -n "$LOCUST" ] && say "Locust: $LOCUST_VERSION ($LOCUST)"
[ -z "$LOCUST" ] && note "$LOCUST_NOTE"

start_nginx
say "target: nginx on $NGINX_URL (core 1, worker_processes 1, 2-byte body); generators on core 0"
say ""

# 1. Throughput
bench_wrk_throughput
bench_locust_rs_throughput
if [ -n "$LOCUST" ]; then
  bench_locust_throughput MaxRpsFastUser
  bench_locust_throughput MaxRpsHttpUser
fi
say "== 1. Throughput: GET / (2-byte body), $USERS connections/users, ${DUR}s each"
sayf '%-34s %10s %7s %9s %10s %10s' "generator" "requests/s" "vs wrk" "gen. CPU" "CPU us/req" "nginx CPU"
for row in "${TP_ROWS[@]}"; do
  IFS='|' read -r name rate cpu wall tcpu <<<"$row"
  # CPU per request uses the whole run's request count (rate x wall time).
  sayf '%-34s %10.0f %7s %8s%% %10s %9s%%' "$name" "$rate" "$(calc '%.3f' "$rate / $WRK_RPS")" \
    "$(calc '%.0f' "$cpu * 100 / $wall")" "$(calc '%.1f' "$cpu * 1000000 / ($rate * $wall)")" \
    "$(calc '%.0f' "$tcpu * 100 / $wall")"
  result "throughput.cpu.$(printf '%s' "${name%% (*}" | tr ' ' '_')" \
    "generator $(calc '%.0f' "$cpu * 100 / $wall")%, $(calc '%.1f' "$cpu * 1000000 / ($rate * $wall)") us/request, nginx $(calc '%.0f' "$tcpu * 100 / $wall")%"
done
[ -z "$LOCUST" ] && say "($LOCUST_NOTE)"
say "(locust-rs/Locust: rate over the full-load seconds of _stats_history.csv, first second left out;"
say " CPU: user+sys time / wall time, 100% = one core; nginx near 100% means the target, not the"
say " generator, set the pace: then 'CPU us/req' (generator CPU per request, approximate) is the"
say " fairer comparison of generators)"
LRS_RATIO=$(calc '%.3f' "$LRS_RPS / $WRK_RPS")
result throughput.locust_rs.ratio_to_wrk "$LRS_RATIO"
say ""

# 2 + 3. Memory per user and ramp
bench_memory_and_ramp
say "== 2. Memory per idle user (one keep-alive connection each, idle_users.toml)"
sayf '%-40s %12s %12s' "run" "RSS (kB)" "connections"
sayf '%-40s %12s %12s' "locust-rs, $SMALL users" "$LRS_RSS_SMALL" "$SMALL_CONNS"
sayf '%-40s %12s %12s' "locust-rs, $BIG users" "$LRS_RSS_BIG" "$BIG_CONNS"
sayf '%-40s %12s' "locust-rs KB per user" "$LRS_KB_PER_USER"
if [ -n "$LOCUST_KB_PER_USER" ]; then
  sayf '%-40s %12s' "Locust HttpUser, $SMALL users" "$LOCUST_RSS_SMALL"
  sayf '%-40s %12s %12s' "Locust HttpUser, $BIG users" "$LOCUST_RSS_BIG" "$LOCUST_BIG_CONNS"
  sayf '%-40s %12s' "Locust HttpUser KB per user" "$LOCUST_KB_PER_USER"
elif [ -n "$LOCUST" ]; then
  say "(Locust HttpUser memory: full mode only)"
fi
say "(RSS sampled >= 2 s after 'All users spawned', once every user holds its connection)"
say ""
say "== 3. Ramp: $BIG users at -r $BIG"
sayf '%-40s %12s' "'Ramping to' -> 'All users spawned'" "$RAMP_MS ms"
sayf '%-40s %12s' "achieved spawn rate (users/s)" "$RAMP_RATE"
sayf '%-40s %12s' "requested spawn rate (users/s)" "$BIG"
sayf '%-40s %12s' "process start -> all $BIG connections open" "${RAMP_CONNECTED_MS:-never} ms"
if [ -n "$LOCUST_RAMP_MS" ]; then
  sayf '%-40s %12s' "Locust HttpUser: 'Ramping' -> 'spawned'" "$LOCUST_RAMP_MS ms"
  sayf '%-40s %12s' "Locust HttpUser: start -> all connected" "${LOCUST_CONNECTED_MS:-never} ms"
fi
say "(Locust 2 dispatches floor(rate) users at once every second, so with -u = -r = $BIG the"
say " ramp is one batch: 'All users spawned' times creating $BIG users, not a 1 s schedule)"
say ""

# 4. Bounded memory
bench_bounded
say "== 4. Bounded memory: max_rps.toml, $USERS users, ${BOUND_T}s at full speed"
sayf '%-40s %12s' "RSS at ${BOUND_S1}s (kB)" "$BOUND_R1"
sayf '%-40s %12s' "RSS at ${BOUND_S2}s (kB)" "$BOUND_R2"
sayf '%-40s %11s%%' "growth" "$BOUND_GROWTH"
sayf '%-40s %12s' "of which anonymous (RssAnon, kB)" "$BOUND_A1 -> $BOUND_A2"
sayf '%-40s %12.0f' "requests/s (steady)" "$BOUND_RPS"
sayf '%-40s %12s' "requests in the run" "$BOUND_TOTAL"
say ""

# 5. Accuracy
start_demo
bench_accuracy
say "== 5. Accuracy: demo target ($DEMO_URL, core 1, service time $SERVICE_MS ms), $ACC_USERS users/connections, ${DUR}s"
sayf '%-40s %12s' "locust-rs p50, 50% column (ms)" "$ACC_P50"
sayf '%-40s %12s' "locust-rs Median Response Time (ms)" "$ACC_MEDIAN"
sayf '%-40s %12s' "locust-rs requests (between(0.05, 0.1))" "$ACC_COUNT"
sayf '%-40s %12s' "wrk -c$ACC_USERS --latency p50 (ms)" "$WRK_P50"
sayf '%-40s %12s' "wrk requests/s (no wait)" "$WRK_ACC_RPS"
sayf '%-40s %12s' "locust-rs p50 / wrk p50" "$(calc '%.3f' "$ACC_P50 / $WRK_P50")"
say ""

# 6. Distributed
bench_distributed_throughput
bench_master_merge
report_distributed

# Targets
FAILED=0
target() { # description measured pass-expression
  local verdict=FAIL
  cmp "$3" && verdict=PASS
  [ "$verdict" = PASS ] || FAILED=$((FAILED + 1))
  sayf '  %-4s  %-50s %s' "$verdict" "$1" "$2"
  result "target.$4" "$verdict"
}
if [ "$MODE" = full ]; then
  say "== Targets (issue 3)"
else
  say "== Targets (issue 3) -- smoke mode: short runs, verdicts not enforced"
fi
target "throughput >= 0.8 x wrk" "$LRS_RATIO x wrk ($(calc '%.0f' "$LRS_RPS") vs $(calc '%.0f' "$WRK_RPS") req/s)" \
  "$LRS_RATIO >= 0.8" throughput
target "<= 10 KB RSS per idle user" "$LRS_KB_PER_USER KB/user" "$LRS_KB_PER_USER <= 10" memory_per_user
target "$BIG users started within 1.5 s" "$RAMP_MS ms" "$RAMP_MS <= 1500" ramp
target "RSS growth <= 5 % (${BOUND_S1}s -> ${BOUND_S2}s)" "$BOUND_GROWTH %" "$BOUND_GROWTH <= 5" bounded_memory
P50_OFF=$(calc '%.2f' "$ACC_P50 - $SERVICE_MS")
P50_VS_WRK=$(calc '%.1f' "($ACC_P50 - $WRK_P50) * 100 / $WRK_P50")
target "p50 within 1 ms of $SERVICE_MS ms" "$ACC_P50 ms (${P50_OFF} ms off)" \
  "$ACC_P50 - $SERVICE_MS <= 1 && $SERVICE_MS - $ACC_P50 <= 1" p50_abs
target "p50 within 10 % of wrk's" "$ACC_P50 vs $WRK_P50 ms (${P50_VS_WRK} %)" \
  "($ACC_P50 - $WRK_P50) <= 0.1 * $WRK_P50 && ($WRK_P50 - $ACC_P50) <= 0.1 * $WRK_P50" p50_vs_wrk

ELAPSED=$(calc '%.0f' "($(now_ms) - $T_START) / 1000")
BUSY_END=$(machine_busy_pct)
result machine.busy_pct_end "$BUSY_END"
say "CPU busy after the last run (other processes): $BUSY_END% of all cores"
result targets_failed "$FAILED"
result elapsed_s "$ELAPSED"
say ""
say "$FAILED target(s) missed; took ${ELAPSED}s; figures in bench_out/results.txt, raw outputs in bench_out/raw/"
if [ "$MODE" = full ] && [ "$FAILED" -gt 0 ]; then
  TARGETS_MISSED=1
  exit 1
fi
exit 0
