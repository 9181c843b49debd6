# locust-rs: the two README commands are `make demo` and `make test`.
HOST ?= http://localhost:8080
BIN := target/release/locust-rs

.PHONY: demo test build load-test health reports-clean lint

build:
	cargo build --release --locked

## Build, then run the basic profile against the built-in demo target (no docker needed).
demo: build
	$(BIN) --demo --profile basic --csv load_test_reports/demo

## Every test: installs what the tests need (nginx), then lint and the whole suite.
test:
	./scripts/test.sh

## The basic profile against the running system (docker-compose up -d first).
load-test: build
	HOST=$(HOST) ./load_test.sh basic

## Is the system up? Gateway and every app instance.
health:
	HOST=$(HOST) ./scripts/health.sh

reports-clean:
	rm -rf load_test_reports

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets --locked -- -D warnings
