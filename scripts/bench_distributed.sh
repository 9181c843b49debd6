# The distributed section of scripts/bench.sh (issue 13), sourced by it: it uses
# bench.sh's helpers (timed_run, bg_start, read_run_csv, calc, result, ...).
#   6a. one master and DIST_WORKERS locust-rs workers against nginx, every process on
#       core 0 as the single-process row was: total requests/s against one process;
#   6b. a master fed by FAKE_WORKERS fake workers (benches/fake_workers.py, pyzmq from
#       Locust's venv) reporting every 3 s as Locust's workers do: the master's CPU per
#       merged report. Skipped, with a note, when Locust's venv is not there.
# All traffic goes to 127.0.0.1.

free_port() { # a port nothing listens on, below the ephemeral range
  local port busy
  busy=" $(listening_ports | tr '\n' ' ') "
  while :; do
    port=$((20000 + RANDOM % 10000))
    [[ $busy == *" $port "* ]] || break
  done
  echo "$port"
}

bench_distributed_throughput() {
  local p="$RAW/dist_throughput" port i
  port=$(free_port)
  DIST_WORKER_TPIDS=()
  for i in $(seq 1 "$DIST_WORKERS"); do
    bg_start $((DUR + 90)) "$RAW/dist_worker_$i.out" "$RAW/dist_worker_$i.err" \
      taskset -c 0 "$BIN" --worker -f "$SCEN/max_rps.toml" --master-port "$port"
    DIST_WORKER_TPIDS+=("$BG_PID")
  done
  timed_run dist_throughput $((DUR + 60)) "$p.out" "$p.err" \
    taskset -c 0 "$BIN" --master --headless -f "$SCEN/max_rps.toml" -H "$NGINX_URL" \
    --master-bind-port "$port" --expect-workers "$DIST_WORKERS" --expect-workers-max-wait 30 \
    -u "$USERS" -r 1000 -t "${DUR}s" --csv "$p" --only-summary
  for i in "${DIST_WORKER_TPIDS[@]}"; do
    wait "$i" 2>/dev/null || true
    bg_forget "$i"
  done
  [ "$RUN_RC" -eq 0 ] || { show_tail "$p.err"; die "the distributed throughput run failed (exit $RUN_RC); see $p.err"; }
  read_run_csv "locust-rs master + $DIST_WORKERS workers" "$p" "$USERS"
  [ "$FAILS" -eq 0 ] || die "the distributed run had $FAILS failed requests; see ${p}_failures.csv"
  # Whole-run totals on both sides: the master hears of requests every 3 s (Locust's
  # report interval), so its per-second history comes in steps.
  DIST_TOTAL=$TOTAL
  DIST_RPS=$(calc '%.1f' "$DIST_TOTAL / $DUR")
  ONE_RPS=$(calc '%.1f' "$LRS_TOTAL / $DUR")
  DIST_RATIO=$(calc '%.3f' "$DIST_TOTAL / $LRS_TOTAL")
  result distributed.throughput.rps "$DIST_RPS"
  result distributed.throughput.ratio_to_one_process "$DIST_RATIO"
}

bench_master_merge() {
  local p="$RAW/dist_merge" port py fake
  DIST_MERGE_NOTE=""
  if [ -z "$LOCUST" ]; then
    DIST_MERGE_NOTE="fake workers skipped: they use pyzmq from Locust's venv ($LOCUST_NOTE)"
    return
  fi
  py="$(dirname "$LOCUST")/python"
  port=$(free_port)
  # The fake workers first (ZeroMQ connects once the master binds), on core 1; the
  # master in the foreground on core 0, so that its whole CPU time is measured.
  bg_start $((FAKE_SECONDS + 120)) "$p.fake.out" "$p.fake.err" \
    taskset -c 1 "$py" "$ROOT/benches/fake_workers.py" --port "$port" \
    --workers "$FAKE_WORKERS" --seconds $((FAKE_SECONDS + 60))
  fake=$BG_PID
  timed_run dist_merge $((FAKE_SECONDS + 90)) "$p.out" "$p.err" \
    taskset -c 0 "$BIN" --master --headless -f "$SCEN/max_rps.toml" -H "$NGINX_URL" \
    --master-bind-port "$port" --expect-workers "$FAKE_WORKERS" --expect-workers-max-wait 60 \
    -u "$FAKE_WORKERS" -r "$FAKE_WORKERS" -t "${FAKE_SECONDS}s" --only-summary
  wait "$fake" 2>/dev/null || true
  bg_forget "$fake"
  [ "$RUN_RC" -eq 0 ] || { show_tail "$p.err"; die "the master fed by fake workers failed (exit $RUN_RC); see $p.err"; }
  MERGE_REPORTS=$(sed -n 's/^reports=//p' "$p.fake.out")
  need_num "reports the fake workers sent" "$MERGE_REPORTS" "$p.fake.out"
  [ "$MERGE_REPORTS" -gt 0 ] || die "the fake workers sent no report; see $p.fake.out"
  grep -q "reported as ready. $FAKE_WORKERS workers connected" "$p.err" ||
    die "not all $FAKE_WORKERS fake workers joined the master; see $p.err"
  # The whole process: start-up, the wait for workers, the run and the quit.
  MERGE_CPU=$RUN_CPU
  MERGE_US=$(calc '%.0f' "$MERGE_CPU * 1000000 / $MERGE_REPORTS")
  MERGE_PCT=$(calc '%.1f' "$MERGE_CPU * 100 / $RUN_WALL")
  result distributed.merge.workers "$FAKE_WORKERS"
  result distributed.merge.reports "$MERGE_REPORTS"
  result distributed.merge.cpu_s "$MERGE_CPU"
  result distributed.merge.us_per_report "$MERGE_US"
}

report_distributed() {
  say "== 6. Distributed: a locust-rs master and its workers (Locust's protocol)"
  sayf '%-46s %12s' "master + $DIST_WORKERS workers, -u $USERS (requests/s)" "$(calc '%.0f' "$DIST_RPS")"
  sayf '%-46s %12s' "one process, the same run (requests/s)" "$(calc '%.0f' "$ONE_RPS")"
  sayf '%-46s %12s' "distributed / one process" "$DIST_RATIO"
  say "(every process on core 0, nginx on core 1: the same CPU as the single-process row, so the"
  say " ratio is the cost of the protocol; on separate machines the workers' rates add up;"
  say " both rates are whole-run totals / ${DUR}s, ramp included)"
  if [ -n "$DIST_MERGE_NOTE" ]; then
    say "($DIST_MERGE_NOTE)"
  else
    sayf '%-46s %12s' "fake workers reporting every 3 s" "$FAKE_WORKERS"
    sayf '%-46s %12s' "reports merged (20 names each)" "$MERGE_REPORTS"
    sayf '%-46s %12s' "master CPU, whole process (s, % of one core)" "$MERGE_CPU ($MERGE_PCT %)"
    sayf '%-46s %12s' "master CPU per merged report (us, at most)" "$MERGE_US"
  fi
  say ""
}
