# locust-rs in a container: the one binary on a slim Debian (CA certificates for HTTPS
# targets). Used by deploy/docker-compose.distributed.yml for a master and its workers,
# and usable in place of locustio/locust in Locust's Helm charts (LOAD_TESTING.md).
FROM rust:1.95-bookworm AS build
# libzmq is built from source and linked in (the zmq crate's vendored build): it needs
# a C++ compiler and cmake.
RUN apt-get update && apt-get install -y --no-install-recommends g++ cmake && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin locust-rs

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/locust-rs /usr/local/bin/locust-rs
COPY scenarios /scenarios
COPY locust.toml /locust.toml
WORKDIR /
ENTRYPOINT ["locust-rs"]
