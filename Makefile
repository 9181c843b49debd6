# locust-rs: the two README commands are `make demo` and `make test`.
HOST ?= http://localhost:8080
BIN := target/release/locust-rs

.PHONY: demo test build fuzz load-test load-test-stress load-test-cache load-test-spike load-test-all load-test-ui health reports-clean lint bench bench-smoke soak

build:
	./scripts/build-deps.sh
	cargo build --release --locked

## Build, then run the basic profile against the built-in demo target (no docker needed).
demo: build
	$(BIN) --demo --profile basic --csv load_test_reports/demo --html load_test_reports/demo.html --report-json load_test_reports/demo.json

## Every test: installs what the tests need (nginx), then lint and the whole suite.
test:
	./scripts/test.sh

## The basic profile against the running system (docker-compose up -d first); the
## report is load_test_reports/basic_<timestamp>.html, the exit code the verdict.
load-test: build
	HOST=$(HOST) ./load_test.sh basic

## The other modes of LOAD_TESTING.md (spike: stages; all: every profile in sequence).
load-test-stress: build
	HOST=$(HOST) ./load_test.sh stress

load-test-cache: build
	HOST=$(HOST) ./load_test.sh cache

load-test-spike: build
	HOST=$(HOST) ./load_test.sh spike

load-test-all: build
	HOST=$(HOST) ./load_test.sh all

## The web UI on http://localhost:8089 (WEB_PORT=...) against the system, until Ctrl-C.
load-test-ui: build
	HOST=$(HOST) ./load_test.sh interactive

## Is the system up? Gateway and every app instance.
health:
	HOST=$(HOST) ./scripts/health.sh

reports-clean:
	rm -rf load_test_reports

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings

## Side-by-side benchmark (issue 3): wrk, locust-rs and Locust against nginx on this
## machine, then the targets; exits 1 when one is missed. Report in bench_out/.
bench:
	./scripts/bench.sh

## The same benchmarks for a few seconds each: proves the harness works (scripts/test.sh).
bench-smoke:
	./scripts/bench.sh --smoke

## Soak (issue 12): the stress profile against the demo target with its faults on for
## SOAK_MINUTES (30), RSS/fds/threads/tasks every minute; exits 1 on growth or a crash.
SOAK_MINUTES ?= 30
soak:
	./scripts/soak.sh --minutes $(SOAK_MINUTES)

## The seeded fuzz tests (fuzz_* in every crate: the HTTP response parser and body
## decoders, and the parsers of user input: scenario files, templates, feeders, criteria,
## time spans, config files, command lines) with up to a million cases each instead of
## make test's tens of thousands; slow parsers divide that (release build).
fuzz:
	LOCUST_RS_FUZZ_CASES=1000000 cargo test --release --locked --workspace --lib --bins -- fuzz_
