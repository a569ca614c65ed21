# A small image with the `topology` binary only, for CI jobs:
#   docker build -t topology .
#   docker run --rm -v "$PWD:/work" topology lint /work/app/code
# Build stage: the release binary (whole-program optimised, stripped; see Cargo.toml).
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/topology /topology

# Final stage: the binary and the CA certificates an amqps:// broker may need, nothing else.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /topology /usr/local/bin/topology
WORKDIR /work
ENTRYPOINT ["topology"]
CMD ["--help"]
