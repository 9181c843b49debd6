# locust-rs: the two README commands are `make demo` and `make test`.
HOST ?= http://localhost:8080
BIN := target/release/locust-rs

.PHONY: demo test build fuzz load-test load-test-stress load-test-cache load-test-spike load-test-all load-test-ui health reports-clean lint bench bench-smoke

build:
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

## The seeded fuzz tests of the HTTP response parser and body decoders with a million
## cases each instead of make test's tens of thousands (a few minutes, release build).
fuzz:
	LOCUST_RS_FUZZ_CASES=1000000 cargo test --release --locked -p locust-engine -- fuzz_
